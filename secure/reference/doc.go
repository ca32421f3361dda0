// Package reference computes the reference values of a SUIT envelope:
// for each boot image or TA it installs, what a device that booted or
// holds it claims in its evidence (attest/comid's form). Authors and the
// TAM publish them; the device's claims (secure/evidence) are made the
// same way, so that the two meet.
//
// It is pure (envelope bytes and keys in, values out): it imports only the
// SUIT codec, the component identities of the boot images and the TAs, and
// attest/comid, so that the TAM may use it without reaching the TPM.
//
// Trust: it trusts the keys it is given: an envelope that none of them
// verifies gives no reference values.
package reference
