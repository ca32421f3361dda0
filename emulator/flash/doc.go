// Package flash models the NOR flash under the bootloader: the array that
// a firmware update erases and programs, and that a power cut can leave
// half-written. It exists so that the update path can be tested against
// every power cut, torn writes included, without hardware.
//
// The model is strict where hardware is forgiving, so that a driver bug
// shows up as an error rather than as silent corruption: erase works only on
// one whole sector and sets it to 0xFF; program works only on erased bytes
// (all 0xFF) and at the write alignment; nothing crosses the end of the
// array. Reads are free, at any offset and length within bounds.
//
// Power cuts are injected by operation number: every accepted program and
// erase is counted (Flash.Ops), and a cut armed at operation n drops it
// (CutBefore), applies it and then loses power (CutAfter), or applies part
// of it (CutTorn, deterministic from a seed). From the cut on, the flash
// answers every read, program and erase with ErrPowerCut until Reset, which
// models the reboot: the array is then exactly as the cut left it.
//
// A Flash is backed by a file (Open), a raw image of the array that
// survives restarts of the emulator, or by memory alone (NewMem).
//
// Trust: none. This is the hardware; it checks only the physical rules
// above and knows nothing of what the bytes mean.
package flash
