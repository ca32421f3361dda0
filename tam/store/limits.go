package store

import "github.com/teeup/teeup/secure/suit"

// Bounds of what a store keeps. A record over one of them is refused with
// ErrInvalid before anything is written (Validate), by every backend.
const (
	// MaxPayload bounds one stored payload.
	MaxPayload = 64 << 20
	// MaxEnvelope bounds a stored envelope (without integrated payloads).
	MaxEnvelope = 1 << 20
	// MaxBlob bounds a public key, an endorsement, reference values, an
	// EAR, one SUIT report or a password hash.
	MaxBlob = 256 << 10
	// MaxKey bounds what a record is found by or carries as an identifier:
	// a name, a device or token ID, a token or challenge, a hash, one part
	// of a component identifier, an encoded SUIT_Digest.
	MaxKey = 256
	// MaxText bounds free text: an error message, a reason, an audit
	// action, target, result or detail.
	MaxText = 4096
	// MaxItems bounds each list in a record: prefixes, components,
	// payload and envelope digests, a tc-list, roles.
	MaxItems = 1024
	// MaxSUITReports bounds the SUIT reports one Report carries.
	MaxSUITReports = 64
	// MaxComponentParts bounds the parts of one component identifier, as
	// the SUIT decoder does.
	MaxComponentParts = suit.MaxComponentIDParts
	// MaxPage bounds the entries one paged call (ListAudit, Reports)
	// returns; a larger limit is clamped to it.
	MaxPage = 1000
	// MaxWithdrawals bounds the TAs withdrawn at once: every TEEP session
	// reads them all.
	MaxWithdrawals = 1024
	// MaxSessionLog is the ended TEEP sessions a device's log keeps: its
	// newest, the oldest dropped in the transaction that logs one more. A
	// count, not an age: the log of a device that polls every minute stays
	// as small as that of one that polls once a day, and a device that
	// went quiet keeps its last sessions, the ones an operator looks for.
	MaxSessionLog = 100
	// MaxWaves bounds the waves of one rollout.
	MaxWaves = 100
	// MaxRolloutDevices bounds the devices of one rollout and the
	// members of one group.
	MaxRolloutDevices = 1 << 20
	// MaxSummaryRows bounds each list of a FleetSummary (last errors,
	// versions); what is left out is counted.
	MaxSummaryRows = 100
	// DigestSize is the size of a SHA-256 digest, the key of envelopes
	// and payloads.
	DigestSize = 32
)
