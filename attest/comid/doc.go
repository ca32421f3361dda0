// Package comid is the JSON form of what a verifier is given besides the
// evidence: a device's endorsement (who it is and the public keys of its
// attestation) and the authors' reference values (the digests, sequence
// numbers and signers of each component version they published). Each
// maps onto a CoMID (draft-ietf-rats-corim) triple; docs/attestation.md
// gives the mapping field by field.
//
// Trust: it trusts nothing it decodes. The decoders are strict (unknown
// fields refused) and bounded (limits.go); the TPM key's name is
// recomputed from its public area and the area must describe a
// restricted signing key fixed to its TPM. Whether to trust an
// endorsement at all is the verifier's configuration, not this package's.
package comid
