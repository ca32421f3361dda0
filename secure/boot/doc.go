// Package boot is the bootloader: the first code after every reset. It
// resumes an interrupted swap, applies a committed install set (the secure
// image, the normal image, or both, all or nothing), verifies every image
// against its stored SUIT manifest, enforces anti-rollback with monotonic
// counters, measures what it boots into a PCR and an event log, boots new
// images in trial and reverts them when the normal world does not confirm.
//
// Trust: the bootloader trusts its own code, the key policy it is built
// with, the monotonic counters and the PCR. It trusts nothing in flash:
// every image is verified before every boot, every journal record carries
// a checksum, and a staged image is verified again before it is swapped in.
//
// Power cuts: every state change is a journal record written after the
// flash operation it describes, and every step of a swap can be redone
// from the journal, so a cut at any flash operation (torn ones included)
// leaves a state from which the next boot completes or reverts the
// operation. The images execute in place, so the new image of a component
// is swapped into its primary slot, sector by sector through a scratch
// sector, keeping the old image in the secondary slot for revert.
package boot
