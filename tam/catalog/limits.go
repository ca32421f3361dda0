package catalog

import "github.com/teeup/teeup/tam/store"

// Bounds of what the catalog accepts.
const (
	// MaxName bounds an author's or a device's name.
	MaxName = 64
	// MaxPrefixes bounds the component-ID prefixes of one author.
	MaxPrefixes = 32
	// MaxPrefixText bounds one prefix in its text form.
	MaxPrefixText = 256
	// MaxKeyPEM bounds a public key in PEM.
	MaxKeyPEM = 4 << 10
	// MaxEnvelope bounds a published envelope (its integrated payloads
	// included; detached ones travel apart) as it is read. The tighter
	// bound is that it fits in one TEEP Update (teep.FitsOneUpdate: up
	// to 130,737 bytes), the only message that delivers it.
	MaxEnvelope = store.MaxEnvelope
	// MaxPayloads bounds the detached payloads of one publish.
	MaxPayloads = 16
	// MaxPublishBody bounds a publish request: an envelope and its
	// payloads, base64 in JSON or parts of a multipart form.
	MaxPublishBody = 96 << 20
	// MaxPersonalization bounds the personalization data of one TC.
	MaxPersonalization = 1 << 20
	// MaxJSONBody bounds every other API request body (an endorsement
	// and reference values included, each bounded by attest/comid).
	MaxJSONBody = 3 << 20
	// DefaultPage is the devices one page of the status or of the device
	// list holds when the request names no limit.
	DefaultPage = 100
	// MaxPage bounds the devices of one page (the store's page); a larger
	// limit is clamped to it.
	MaxPage = store.MaxPage
	// MaxWithdrawalBody bounds a withdrawal request: one component ID.
	MaxWithdrawalBody = 4 << 10
	// MaxRunningListed bounds the devices a withdrawal's status names
	// among those still running its TA (it counts them all).
	MaxRunningListed = 100
)

// The payload bound is the store's.
const maxPayload = store.MaxPayload
