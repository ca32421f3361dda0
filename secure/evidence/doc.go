// Package evidence is the device's side of attestation: what the secure
// world claims of itself (the images it booted, the TAs it holds, its
// identity), signed with the device's attestation key and bound to the
// TPM by a quote over the measurement PCR, in attest's format. The
// reference values authors publish for an envelope are computed by
// secure/reference the way these claims are made, so that the two meet.
//
// Trust: it runs in the secure world and trusts what the secure world
// verified (the bootloader's images, the TA store, the trust policy); the
// nonce comes from the untrusted normal world and is only bounded. The
// attestation key never leaves it: only signed evidence does.
package evidence
