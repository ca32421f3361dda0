package attest

import "github.com/teeup/teeup/attest/eventlog"

// Bounds of the claims and of the evidence, each from the RFC that
// defines it.
const (
	// MinNonce and MaxNonce bound eat_nonce (RFC 9711 section 4.1).
	MinNonce = 8
	MaxNonce = 64

	// MinUEID and MaxUEID bound the ueid claim (RFC 9711 section 4.2.1).
	MinUEID = 7
	MaxUEID = 33

	// MaxOEMID bounds the oemid claim: an IEEE OUI (3 bytes) or a random
	// OEM ID (16 bytes) (RFC 9711 section 4.2.3).
	MaxOEMID = 16

	// MaxHWModel bounds the hwmodel claim (RFC 9711 section 4.2.4).
	MaxHWModel = 32

	// MaxVersion bounds a version string (hwversion).
	MaxVersion = 64

	// MaxComponents bounds the components one EAT describes: the secure
	// image, the normal image and every installed TA.
	MaxComponents = 64

	// MaxComponentName bounds a component's name, the text form of its
	// SUIT component identifier, as the event log records it.
	MaxComponentName = eventlog.MaxComponentName

	// MaxSigner bounds a signer identifier (a key's SHA-256 thumbprint
	// is 32 bytes).
	MaxSigner = 64

	// MaxEAT bounds the signed EAT (COSE_Sign1) of one evidence.
	MaxEAT = 64 << 10

	// MaxQuoteAttest and MaxQuoteSignature bound a TPM quote: a
	// TPMS_ATTEST of a quote over one PCR selection with a 64-byte
	// qualifying data, and a DER ECDSA P-256 signature.
	MaxQuoteAttest    = 1024
	MaxQuoteSignature = 256

	// MaxEvidence bounds an encoded evidence.
	MaxEvidence = MaxEAT + MaxQuoteAttest + MaxQuoteSignature + eventlog.MaxEncoded + 64
)

// MaxOutstandingNonces bounds the nonces a NonceStore holds at once, so
// that requests for challenges cannot grow it without end.
const MaxOutstandingNonces = 1 << 16

// Bounds of the decoders (cbor.go) besides the counts above: the EAT's
// claims, and the evidence's outer map.
const (
	maxNestedLevels = 16
	maxMapPairs     = 32

	maxEvidenceNestedLevels  = 4
	maxEvidenceArrayElements = 16
	maxEvidenceMapPairs      = 16
)

// MaxEAR bounds an attestation result (a JWT) VerifyEAR reads.
const MaxEAR = 64 << 10
