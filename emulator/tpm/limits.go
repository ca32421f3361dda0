package tpm

const (
	// nvSize is NV_MEMORY_SIZE of the pinned simulator build (TpmProfile.h).
	nvSize = 16384

	// stateHeaderSize is magic, image length and SHA-256.
	stateHeaderSize = len(stateMagic) + 4 + 32

	// stateFileSize is the exact size of a state file; reads are bounded by it.
	stateFileSize = stateHeaderSize + nvSize
)
