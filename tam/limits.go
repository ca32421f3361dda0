package tam

import "time"

// The HTTP server's bounds against slow or oversized clients (issue 17's
// abuse limits). The write timeout leaves room for the longest long poll
// and for a payload download on a slow link (downloads resume with Range
// if it is cut).
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 5 * time.Minute
	WriteTimeout      = 10 * time.Minute
	IdleTimeout       = 2 * time.Minute
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes = 64 << 10
	// ShutdownGrace is how long a graceful shutdown waits for requests
	// in flight.
	ShutdownGrace = 10 * time.Second
	// maxKeyFile bounds the TAM key file read at start.
	maxKeyFile = 16 << 10
)
