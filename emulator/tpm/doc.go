// Package tpm is the TPM 2.0 of an emulated device: the Microsoft reference
// implementation (through github.com/google/go-tpm-tools/simulator, in cgo,
// linked against libcrypto) wrapped so that its non-volatile memory behaves
// like a chip soldered to a board that is switched off and on.
//
// It is only the chip: a go-tpm transport (transport.TPM) that carries TPM
// commands to the simulator, with the chip's power (Reset, Close) and the
// persistence of its NV. The commands the secure world sends (counters,
// rollback indices, seal, PCRs, quotes) are in secure/tpm, which works over
// this transport as over a real chip's; tests of secure/* reach the
// simulator through secure/tpm/tpmtest.
//
// # What it trusts
//
// It trusts the reference TPM to implement TPM 2.0 and the directory given
// to [Open] to hold what was last written there: the state file carries a
// SHA-256 checksum, which detects corruption, not tampering. Anyone who can
// write that directory can roll the device's TPM back, exactly as anyone with
// a soldering iron and a flash programmer could on a real board; the emulator
// models the chip, not the resistance of its package.
//
// # Power
//
// [TPM.Reset] is a power cut followed by power-on: TPM2_Shutdown is not sent,
// the platform's _TPM_Init runs, then TPM2_Startup(CLEAR). PCRs return to
// their reset values (all zero for PCRs 0–16 and 23); NV, counters included,
// is kept. [TPM.Close] is an orderly power-off: TPM2_Shutdown(CLEAR), then
// the NV image is saved.
//
// # Persistence
//
// The reference TPM keeps all of its non-volatile state, hierarchy seeds, NV
// indices, counters, the clock and the DRBG state, in one platform NV array
// (s_NV, 16 KiB, in the simulator's Samples/Google/NVMem.c). Microsoft's
// stand-alone simulator mirrors that array to a file called NVChip whenever
// the TPM commits NV; the Google platform layer that go-tpm-tools vendors
// keeps it in memory only (its _plat__NvCommit does nothing). This package
// supplies the missing half of the real mechanism: after every command
// ([TPM.Send]) or group of commands ([TPM.Batch]), it reads the array
// back through the platform API (_plat__NvMemoryRead) and, if it changed,
// writes it to dir/tpm-nv.state, atomically (temporary file, fsync, rename,
// fsync of dir). [Open] on a directory that holds such a file starts the
// simulator, writes the image back (_plat__NvMemoryWrite), runs _TPM_Init and
// TPM2_Startup(CLEAR): the TPM comes up as after a power cut, with the same
// seeds, counters and indices. An operation returns only after its NV effect
// is on disk, so a process killed at any point never shows a counter value
// lower than one a caller was told about. A state file that is unreadable or
// fails its checksum makes [Open] fail with [ErrStateCorrupt]; it is never
// silently replaced by a fresh TPM, which would roll every counter back.
// The image layout is that of the pinned go-tpm-tools build; a different
// simulator build may not accept it.
//
// # One per process
//
// The reference TPM is a set of C globals, so a process holds at most one
// simulator. [Open] returns [ErrBusy] while a TPM is open in the process, and
// also while another process holds dir (an advisory lock on dir/lock on
// Unix). Nothing else in the process may call simulator.Get. Tests that use
// this package must not run in parallel and must Close what they open.
//
// Without cgo the package still builds, and [Open] returns [ErrNoSimulator].
package tpm
