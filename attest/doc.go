// Package attest is remote attestation: the evidence format a device
// produces (an EAT signed by the device's attestation key, bound by a TPM
// quote to the boot event log) and the verifier that checks it.
//
// The device side only gathers data and calls the pure builders here
// (SignClaims, NewEvidence); a verifier anywhere decodes the evidence
// (DecodeEvidence), verifies it, which returns only verified claims, and
// runs policy on those claims afterwards, as go-tpm-tools' server does.
// The EAT profile, its claims and the wire form of the evidence are
// documented in docs/eat-profile.md.
//
// Trust: it trusts nothing it decodes. A verifier trusts only the keys it
// is given (the registered device's attestation key, the endorsed TPM
// attestation key) and the nonces it issued; every decoder is strict and
// bounded (limits.go).
package attest
