package tpm

const (
	// NumPCRs is the number of PCRs in the SHA-256 bank (PC Client
	// profile).
	NumPCRs = 24

	// MaxCounterAdvance bounds how far one AdvanceCounterTo call moves a
	// counter. A TPM counter only counts by one, so the distance is the
	// number of TPM2_NV_Increment commands sent; the bound keeps a mistaken
	// target from stalling the device. Values that jump (sequence numbers)
	// live in rollback indices, which have no such bound.
	MaxCounterAdvance = 1 << 16

	// MaxSealed is the most a sealed object holds (MAX_SYM_DATA of the
	// reference TPM): enough for a root key, not for bulk data.
	MaxSealed = 128

	// MaxSealedBlob bounds a blob Unseal reads: a TPM2B_PUBLIC and a
	// TPM2B_PRIVATE of a sealed-data object, with room to spare.
	MaxSealedBlob = 2048

	// MaxQuoteNonce is the longest nonce a quote carries
	// (TPM2B_DATA of the quote's qualifyingData: one SHA-512 digest).
	MaxQuoteNonce = 64
)
