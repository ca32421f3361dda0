package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrConfig: New was given a Config that describes no usable broker.
var ErrConfig = errors.New("broker: invalid config")

// ErrRefused is the root of the TAM's answers that a retry would not
// change: a 4xx other than 408 and 429. The session fails at once.
var ErrRefused = errors.New("broker: refused by the TAM")

// ErrBadResponse is the root of answers that break TEEP over HTTP: a 200
// that is not application/teep+cbor or carries no message, a message
// larger than MaxMessage, a status the protocol has no use for (1xx, 3xx,
// another 2xx). Not retried.
var ErrBadResponse = errors.New("broker: bad response from the TAM")

// ErrTooLarge: the TAM's message is larger than MaxMessage.
var ErrTooLarge = fmt.Errorf("%w: message larger than %d bytes", ErrBadResponse, MaxMessage)

// Transient failures: retried while attempts remain.
var (
	// ErrUnavailable: the TAM answered 408, 429 or 5xx.
	ErrUnavailable = errors.New("broker: TAM unavailable")
	// ErrNetwork: the request did not get an answer (connection refused
	// or cut, a per-request timeout, a body cut short).
	ErrNetwork = errors.New("broker: network")
)

// ErrAttemptsExhausted: every attempt of a request failed with a transient
// error; the error also wraps the last one.
var ErrAttemptsExhausted = errors.New("broker: attempts exhausted")

// ErrTooManyMessages: the TAM sent more than MaxMessages messages in one
// session, or made the Agent ask for payloads more than MaxPayloadRounds
// times for one message.
var ErrTooManyMessages = errors.New("broker: session too long")

// ErrAgentAnswer: the Agent's ipc answer asks for payloads and carries a
// message at once, which the relay has no order for. The set is
// cancelled.
var ErrAgentAnswer = errors.New("broker: agent answer both asks for payloads and carries a message")

// ErrSessionDeadline is the cause of a session stopped by
// Config.SessionTimeout. It wraps context.DeadlineExceeded.
var ErrSessionDeadline = fmt.Errorf("broker: session deadline: %w", context.DeadlineExceeded)

// StatusError is an HTTP status that ended a request. It unwraps to
// ErrUnavailable (retried), ErrRefused or ErrBadResponse.
type StatusError struct {
	StatusCode int
	// RetryAfter is the server's Retry-After in delta-seconds (0 if none,
	// or an HTTP date, which a device's clock cannot be trusted to
	// compare).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

func (e *StatusError) Unwrap() error {
	switch c := e.StatusCode; {
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 && c <= 599:
		return ErrUnavailable
	case c >= 400 && c <= 499:
		return ErrRefused
	default:
		return ErrBadResponse
	}
}

// retryable tells whether another attempt could succeed where this one
// failed.
func retryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNetwork)
}

// ErrCertificate: the TAM's TLS certificate does not verify against the
// trusted roots (Config.TLS). Not retried: another attempt meets the same
// certificate.
var ErrCertificate = errors.New("broker: TAM certificate not trusted")
