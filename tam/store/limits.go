package store

// Bounds of what a store keeps.
const (
	// MaxPayload bounds one stored payload.
	MaxPayload = 64 << 20
)
