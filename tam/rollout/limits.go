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
