package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Mistakes of the caller, found before any request is made.
var (
	// ErrConfig: New was given a Config that describes no usable
	// downloader.
	ErrConfig = errors.New("fetch: invalid config")
	// ErrInvalidArgument: Fetch was called with an unparsable URI, a nil
	// sink or an offset past the size.
	ErrInvalidArgument = errors.New("fetch: invalid argument")
	// ErrUnsupportedScheme: the URI, or a redirect, is not http or https,
	// or a redirect goes from https down to http.
	ErrUnsupportedScheme = errors.New("fetch: unsupported URI scheme")
)

// ErrPermanent is the root of the server's answers that a retry would not
// change. Fetch returns them after the attempt that got them, without
// retrying.
var ErrPermanent = errors.New("fetch: permanent failure")

var (
	// ErrNotFound: the server answered 404 Not Found or 410 Gone.
	ErrNotFound = fmt.Errorf("%w: not found", ErrPermanent)
	// ErrTooLong: the server has more bytes than the declared size, seen
	// from Content-Length, Content-Range or a byte past the end. The bytes
	// past the size never reach the sink.
	ErrTooLong = fmt.Errorf("%w: more bytes than the declared size", ErrPermanent)
	// ErrBadResponse: a 200 or 206 answer that breaks HTTP's rules or this
	// package's bounds (see its wrappers).
	ErrBadResponse = fmt.Errorf("%w: bad response", ErrPermanent)
	// ErrBadContentRange: a 206 whose Content-Range is malformed, does not
	// start where the request asked, or disagrees with the body.
	ErrBadContentRange = fmt.Errorf("%w: Content-Range", ErrBadResponse)
	// ErrRangeIgnored: the server answered a Range request with the whole
	// payload and skipping to the resume point would read more than
	// MaxDiscard bytes.
	ErrRangeIgnored = fmt.Errorf("%w: Range ignored", ErrBadResponse)
)

// Transient failures: Fetch retries them while attempts remain.
var (
	// ErrUnavailable: the server answered 408, 429 or 5xx.
	ErrUnavailable = errors.New("fetch: server unavailable")
	// ErrTruncated: the server ended its answer before the declared size,
	// or has no bytes from the resume point on (416).
	ErrTruncated = errors.New("fetch: fewer bytes than the declared size")
	// ErrStalled: no byte arrived for the stall timeout.
	ErrStalled = errors.New("fetch: connection stalled")
)

// ErrAttemptsExhausted: every attempt failed with a transient error. The
// returned error also wraps the last one.
var ErrAttemptsExhausted = errors.New("fetch: attempts exhausted")

// StatusError is an HTTP status that ended an attempt. It unwraps to
// ErrNotFound, ErrUnavailable or ErrPermanent, which decides whether the
// attempt is retried.
type StatusError struct {
	StatusCode int
	// RetryAfter is the server's Retry-After in delta-seconds, zero if it
	// sent none or sent an HTTP date (dates are ignored: the device clock
	// cannot be trusted to compare them). Fetch caps it at Backoff.Max.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

func (e *StatusError) Unwrap() error {
	switch c := e.StatusCode; {
	case c == http.StatusNotFound || c == http.StatusGone:
		return ErrNotFound
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 && c <= 599:
		return ErrUnavailable
	default:
		return ErrPermanent
	}
}

// sinkError is an error returned by the sink: never retried, and unwrapped
// so that the caller finds its own error with errors.Is.
type sinkError struct {
	off uint64
	err error
}

func (e *sinkError) Error() string { return fmt.Sprintf("sink at offset %d: %v", e.off, e.err) }
func (e *sinkError) Unwrap() error { return e.err }
