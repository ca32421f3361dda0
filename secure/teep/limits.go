package teep

// The size limits of a TEEP message. A small Agent sizes its buffers
// from them, and the decoder refuses anything beyond them before it
// allocates for it (ErrLimit).
const (
	// MaxMessageSize bounds one message, COSE_Sign1 wrapper included:
	// an Update carrying one integrated 64 KiB payload fits (the
	// hackathon's Wasm application is 65.5 KB signed), a larger TC is
	// fetched by URI, as the draft intends.
	MaxMessageSize = 128 << 10
	// SignOverhead bounds what Sign adds around a message's encoding:
	// the COSE_Sign1 tag and array, the protected algorithm, the kid (a
	// thumbprint), an ESP256 or Ed25519 signature and their headers
	// (about 115 bytes; TestSignOverhead measures it).
	SignOverhead = 256

	// MaxNesting bounds CBOR nesting in a message (SUIT envelopes and
	// evidence travel as byte strings and do not count).
	MaxNesting = 16
	// MaxArrayElements and MaxMapPairs bound every array and map.
	MaxArrayElements = 256
	MaxMapPairs      = 64

	// MaxManifests bounds an Update's manifest-list: one install set.
	MaxManifests = 16
	// MaxTCs bounds tc-list, requested-tc-list and unneeded-manifest-list.
	MaxTCs = 64
	// MaxSUITReports bounds the suit-reports of one message.
	MaxSUITReports = MaxManifests
	// MaxCipherSuites and MaxOperations bound the cipher-suite lists and
	// the operations of one suite; MaxProfiles the SUIT COSE profiles.
	MaxCipherSuites = 8
	MaxOperations   = 4
	MaxProfiles     = 8
	// MaxVersions bounds versions, supported-freshness-mechanisms and
	// ext-list.
	MaxVersions = 8
	// MaxComponentIDParts bounds the byte strings of one SUIT component
	// identifier.
	MaxComponentIDParts = 8

	// The CDDL's sizes: token 8..64 bytes, challenge 8..512, msg and
	// err-msg 1..128 characters' bytes, err-lang 1..35.
	MinTokenSize     = 8
	MaxTokenSize     = 64
	MinChallengeSize = 8
	MaxChallengeSize = 512
	MaxMsgSize       = 128
	MaxLangSize      = 35

	// MaxErrCode bounds an err-code on the wire: unknown codes are
	// tolerated (kept, named as unknown) up to it.
	MaxErrCode = 1<<32 - 1
)

// The Agent's bounds.
const (
	// MaxAgentSessions bounds the sessions an Agent keeps open at once
	// (one per TAM at a time is the norm); past it, a QueryRequest gets
	// ERR_TEMPORARY_ERROR until one ends or expires.
	MaxAgentSessions = 16
	// MaxSeenChallenges bounds the challenges an Agent remembers to
	// refuse their reuse (each for one session lifetime).
	MaxSeenChallenges = 4 * MaxAgentSessions
	// DefaultSessionLifetime is how long a token stays good for the
	// Update that follows its QueryRequest.
	DefaultSessionLifetime = 5 * 60 // seconds
)
