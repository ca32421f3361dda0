package rollout

// Bounds of the engine.
const (
	// DefaultMaxSends is how many Updates may carry a release to one
	// device before its delivery fails: a release needs one, or two when
	// it holds TAs and a firmware pair (TAs go first); the rest are
	// Updates whose session ended without an answer (a replica or the
	// device stopped).
	DefaultMaxSends = 4
	// maxIDBytes is the random part of a rollout ID.
	maxIDBytes = 8
)

// Bounds of the operator API's bodies.
const (
	// MaxJSONBody bounds a group, release, rollout or tags request: a
	// group by name of 10,000 devices (64-byte IDs) fits.
	MaxJSONBody = 1 << 20
	// maxReason bounds the reason of a pause or cancel.
	maxReason = 1024
)
