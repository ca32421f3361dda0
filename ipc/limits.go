package ipc

// Bounds on everything that crosses the channel. They are checked on both
// sides: the secure world checks every request (its peer is untrusted), and
// the normal world checks every response (so that a fault in the secure
// world cannot make it allocate without bound either). A value past any of
// them is refused with a Protocol error, LimitExceeded or Malformed, before
// anything is allocated for it.
const (
	// MaxFrame bounds the body of one frame: one MaxChunk of payload plus
	// room for the request header around it.
	MaxFrame = MaxChunk + 4<<10
	// MaxChunk bounds the data of one WriteChunk. The secure world offers
	// it in HelloReply; a client never sends more than the smaller of this
	// and the offer.
	MaxChunk = 1 << 20
	// maxShared bounds the shared region a world maps: SharedSlots chunks,
	// with room to spare.
	maxShared = 64 << 20

	// MaxEnvelope bounds the SUIT envelope of StartUpdate. Payloads larger
	// than what fits next to the manifest must be detached and written
	// with WriteChunk.
	MaxEnvelope = 1 << 20
	// MaxTEEPMessage bounds a TEEP message relayed in either direction.
	MaxTEEPMessage = 1 << 20
	// MaxEvidence bounds the evidence GetEvidence returns.
	MaxEvidence = 1 << 20
	// MaxNonce bounds the nonce of GetEvidence (an EAT nonce is 8 to 64
	// bytes; the lower bound is the verifier's business).
	MaxNonce = 64

	// MaxComponents bounds the components Query returns.
	MaxComponents = 64
	// MaxPayloads bounds the payloads one StartUpdate asks for.
	MaxPayloads = 64
	// MaxComponentIDParts bounds the byte strings of one SUIT component
	// identifier.
	MaxComponentIDParts = 16
	// MaxComponentIDPart bounds one byte string of a component identifier.
	MaxComponentIDPart = 256
	// MaxDigest bounds the digest of a component (an encoded SUIT_Digest
	// of SHA-512 is 68 bytes).
	MaxDigest = 128
	// MaxURI bounds the URI of a payload request.
	MaxURI = 2048
	// MaxStatusText bounds each name and state in a DeviceStatusResult.
	MaxStatusText = 64
	// MaxMessage bounds the message of an error response. The server
	// truncates longer handler messages; the client refuses them.
	MaxMessage = 1024

	// MaxRequestsPerSession bounds the requests one session serves; the
	// one past it is answered with LimitExceeded and the session ends.
	MaxRequestsPerSession = 1 << 32
	// MaxSessionBytes bounds the bytes the server reads in one session,
	// frame headers included.
	MaxSessionBytes = 1 << 40

	// CBOR decoder bounds (fxamacker/cbor minimums are 4, 16 and 16). The
	// deepest message is a StartUpdate response: Response, StartResult,
	// Payloads, PayloadRequest, Component: five levels. No message has a
	// map; arrays hold at most MaxComponents or MaxPayloads elements, and
	// component identifiers MaxComponentIDParts.
	maxNestedLevels  = 8
	maxArrayElements = 128
	maxMapPairs      = 16
)
