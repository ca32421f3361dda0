package tpm

const (
	// NumPCRs is the number of PCRs in the SHA-256 bank of the reference TPM
	// (PC Client profile).
	NumPCRs = 24

	// MaxCounterAdvance bounds how far one AdvanceCounterTo call moves a
	// counter. A TPM counter only counts by one, so the distance is the
	// number of TPM2_NV_Increment commands sent; the bound keeps a hostile or
	// mistaken target (a sequence number near 2^64) from stalling the
	// bootloader forever.
	MaxCounterAdvance = 1 << 16

	// nvSize is NV_MEMORY_SIZE of the pinned simulator build (TpmProfile.h).
	nvSize = 16384

	// stateHeaderSize is magic, image length and SHA-256.
	stateHeaderSize = len(stateMagic) + 4 + 32

	// stateFileSize is the exact size of a state file; reads are bounded by it.
	stateFileSize = stateHeaderSize + nvSize
)
