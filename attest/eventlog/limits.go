package eventlog

const (
	// MaxEvents bounds the events of one log: two per measured component
	// (manifest and image), with room for many more components than a
	// device boots.
	MaxEvents = 256

	// MaxComponentName bounds an event's component name (a SUIT component
	// identifier in its text form).
	MaxComponentName = 512

	// MaxEncoded bounds an encoded log.
	MaxEncoded = MaxEvents * (MaxComponentName + 64)

	// NumPCRs is the number of PCRs of a TPM's SHA-256 bank (PC Client
	// profile); an event names one of them.
	NumPCRs = 24
)

// Bounds of the decoder (codec.go) besides the counts above.
const (
	maxNestedLevels = 4
	maxMapPairs     = 16 // the smallest the decoder allows
)
