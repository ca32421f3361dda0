package attest

// Quote is a TPM2 quote as the TPM returned it: the TPMS_ATTEST structure
// it signed and its signature by the TPM's attestation key. Nothing in it
// is trusted until VerifyQuote has checked the signature.
type Quote struct {
	// Attest is the TPMS_ATTEST, as the TPM encoded it.
	Attest []byte `cbor:"1,keyasint"`
	// Signature is the attestation key's ECDSA P-256 signature over
	// SHA-256(Attest), ASN.1 DER encoded.
	Signature []byte `cbor:"2,keyasint"`
}
