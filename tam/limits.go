package tam

import "time"

// The server's own bounds (the HTTP ones are the gate's, tam/auth).
const (
	// ShutdownGrace is how long a graceful shutdown waits for the
	// requests in flight.
	ShutdownGrace = 10 * time.Second
	// maxKeyFile bounds the TAM key file read at start.
	maxKeyFile = 16 << 10
)
