package suit

// Bounds on everything the decoder and the processor accept. They are sized
// for constrained devices and the examples of the drafts with a wide margin;
// an input past any of them is refused with ErrMalformed (decoding) or
// ErrTooComplex (processing) before anything is allocated for it.
const (
	// MaxEnvelopeSize bounds a whole envelope, integrated payloads included.
	MaxEnvelopeSize = 16 << 20
	// MaxManifestSize bounds the bstr-wrapped SUIT_Manifest.
	MaxManifestSize = 256 << 10
	// MaxAuthBlocks bounds the authentication blocks after the digest.
	MaxAuthBlocks = 8
	// MaxComponents bounds suit-components.
	MaxComponents = 64
	// MaxComponentIDParts bounds the byte strings of one component identifier.
	MaxComponentIDParts = 16
	// MaxIntegratedPayloads bounds the text-keyed members of an envelope.
	MaxIntegratedPayloads = 64
	// MaxCommands bounds the commands of one command sequence.
	MaxCommands = 512
	// MaxTryEach bounds the alternatives of one try-each.
	MaxTryEach = 32
	// MaxSequenceDepth bounds the nesting of try-each and run-sequence.
	MaxSequenceDepth = 8
	// MaxCommandsExecuted bounds the work of one processing run: each
	// condition or directive applied to one component counts once, and so
	// does each component a set-component-index selects. Nesting with
	// component-index true multiplies, so depth alone is not enough. Every
	// trace record is paid for, so the trace is bounded too.
	MaxCommandsExecuted = 50000
	// MaxContentSize bounds suit-parameter-content and the bytes that
	// check-content reads back from a component.
	MaxContentSize = 1 << 20

	// CBOR decoder bounds (fxamacker/cbor minimums are 4, 16 and 16).
	maxNestedLevels  = 16
	maxArrayElements = 1024
	maxMapPairs      = 256
)
