package broker

import (
	"time"

	"github.com/teeup/teeup/ipc"
)

// MediaType is the media type of a TEEP message over HTTP.
const MediaType = "application/teep+cbor"

// What the broker reads from the TAM.
const (
	// MaxMessage bounds a TEEP message: the Agent takes none larger.
	MaxMessage = ipc.MaxTEEPMessage
	// maxDrain is read from the body of an answer that carries no message
	// (204, an error, a poll's answer) so that the connection can be
	// reused; the rest is dropped with the connection.
	maxDrain = 4 << 10
	// MaxMessages bounds the TEEP messages one session receives: a TAM
	// that never ends a session does not hold the device for ever.
	MaxMessages = 32
	// MaxPayloadRounds bounds the times one TEEP message makes the Agent
	// ask for payloads before it answers.
	MaxPayloadRounds = 4
	// MaxRetryAfter caps a server's Retry-After, so that a server cannot
	// park the device.
	MaxRetryAfter = 5 * time.Minute
	// maxDeviceID bounds the device ID: the hex of a thumbprint of
	// SHA-512 at most.
	maxDeviceID = 128
)

// Defaults of Config.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultSessionTimeout = 10 * time.Minute
	DefaultMaxAttempts    = 5
	// MaxAttemptsLimit bounds Config.MaxAttempts.
	MaxAttemptsLimit      = 100
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultPollInterval   = 5 * time.Minute
	// DefaultPollWait is how long the TAM may hold a long poll.
	DefaultPollWait = 30 * time.Second
	// MaxPollWait bounds Config.PollWait: the longest wait a TAM takes
	// (tam/teepsrv.MaxPollWait).
	MaxPollWait = 2 * time.Minute
)
