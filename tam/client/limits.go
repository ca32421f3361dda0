package client

import "time"

// Bounds of what the client reads and waits for.
const (
	// MaxResponse bounds a JSON answer (an audit page of auth.MaxAuditPage
	// rows, a status table).
	MaxResponse = 32 << 20
	// MaxErrorBody bounds an error answer.
	MaxErrorBody = 64 << 10
	// RequestTimeout bounds one request, a publish upload included.
	RequestTimeout = 5 * time.Minute
)
