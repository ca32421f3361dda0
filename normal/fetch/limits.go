package fetch

import (
	"time"

	"github.com/teeup/teeup/ipc"
)

// Chunks handed to the sink. A chunk is one buffer per Fetch, so the
// maximum bounds the memory a download holds.
const (
	DefaultChunkSize = 256 << 10
	MaxChunkSize     = ipc.MaxChunk // a chunk crosses ipc whole
)

// Attempts and the waits between them.
const (
	DefaultMaxAttempts = 5
	// MaxAttemptsLimit bounds Config.MaxAttempts: beyond it a download is
	// not retrying a glitch but hammering a broken server.
	MaxAttemptsLimit = 100

	DefaultBackoffInitial = 1 * time.Second
	DefaultBackoffMax     = 30 * time.Second

	// DefaultStallTimeout is how long an attempt may go without receiving a
	// byte (headers included) before it is abandoned and resumed. It covers
	// the half-open connections that cellular and NAT links leave behind,
	// which no whole-download deadline can tell from a slow link.
	DefaultStallTimeout = 60 * time.Second
)

// MaxDiscard bounds the bytes an attempt reads and throws away when a
// server ignores the Range header and sends the payload from its start:
// beyond it the resume fails with ErrRangeIgnored rather than pay for the
// whole prefix again on every attempt.
const MaxDiscard = 16 << 20

// MaxRedirects bounds the redirects followed by one request.
const MaxRedirects = 10

// Small reads of things that are not the payload.
const (
	// maxErrorDrain is read from the body of an error answer so that the
	// connection can be reused; the rest is dropped with the connection.
	maxErrorDrain = 4 << 10
	// maxContentRangeLen bounds the Content-Range header before parsing:
	// "bytes " and three 20-digit numbers fit with room to spare.
	maxContentRangeLen = 100
)
