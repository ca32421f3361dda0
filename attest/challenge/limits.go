package challenge

import "time"

// Limits of the server.
const (
	// MaxSessions bounds the sessions open at once.
	MaxSessions = 1024
	// DefaultNonceSize is the nonce a session gets without ?nonceSize.
	DefaultNonceSize = 32
	// DefaultTTL is how long a session (and its nonce) lasts.
	DefaultTTL = 2 * time.Minute
)
