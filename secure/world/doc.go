// Package world assembles and runs the secure world. Over the hardware it
// is given (the flash and the TPM, through the interfaces of the
// bootloader and of the secure storage) it opens the secure storage once,
// reads the trust policy sealed in it, runs the bootloader, builds the
// update service over both and serves the normal world on the ipc
// channel. Its halt policy says what a fault does to the device.
//
// Trust: it trusts the hardware it is given, and what the secure storage
// authenticates (the trust policy, the device keys, the TA store). It
// trusts nothing that arrives on the channel: every request goes through
// the update service, which checks it. It imports nothing of the emulator
// or of the normal world: a real device gives it real hardware.
package world
