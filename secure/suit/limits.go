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
	// MaxDependencyDepth bounds how deep dependencies nest, and
	// MaxDependencies how many dependency authentications one run may do
	// (each costs a signature check; a check is cached until the
	// component changes).
	MaxDependencyDepth = 4
	MaxDependencies    = 16
	// MaxContentSize bounds suit-parameter-content and the bytes that
	// check-content reads back from a component.
	MaxContentSize = 1 << 20

	// MaxRecipients bounds the COSE_recipients of one encryption info.
	MaxRecipients = 16
	// MaxEncryptedPayloadSize bounds the ciphertext one decryption takes.
	// AES-GCM counts blocks with a 32-bit counter that starts at 2, so it
	// must stay well below 2^36 bytes; this bound keeps it far below.
	MaxEncryptedPayloadSize = 1 << 32
	// decryptChunk is the unit in which payloads are decrypted: the
	// decryptor's memory, whatever the payload size. A multiple of the
	// AES block, as large as an ipc chunk so that each chunk reaches the
	// hash and the flash in one piece (64 KiB pieces cost a fifth of the
	// secure world's update throughput in goroutine hand-offs).
	decryptChunk = 1 << 20

	// MaxReportSize bounds a report, signed or not, that ParseReport and
	// VerifyReport take.
	MaxReportSize = 1 << 20
	// MaxReportRecords bounds the records of one report.
	MaxReportRecords = 1024

	// CBOR decoder bounds (fxamacker/cbor minimums are 4, 16 and 16).
	maxNestedLevels  = 16
	maxArrayElements = 1024
	maxMapPairs      = 256
)

// MaxVersionParts bounds the integers of one version.
const MaxVersionParts = 16
