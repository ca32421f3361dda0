// Package tpm holds the TPM 2.0 commands the secure world of a device
// sends, over any command transport (go-tpm's transport.TPM): a chip
// behind /dev/tpmrm0 on hardware, the reference simulator in the emulator.
// Every operation is a real TPM command built with
// github.com/google/go-tpm; the package adds no policy of its own beyond
// refusing, before the TPM is asked, to move an anti-rollback value
// backward.
//
// # What it trusts
//
// It trusts the transport to reach the device's own TPM and the TPM to
// implement TPM 2.0. Platform authorization (TPM_RH_PLATFORM) belongs to
// the secure world: on hardware the boot firmware holds it and never
// hands it to the normal world (it sets a random platform auth value or
// clears phEnable before the normal world starts); in the emulator only the
// secure world's process has the TPM at all. What this package writes with
// platform authorization can therefore only be written by the secure world.
package tpm
