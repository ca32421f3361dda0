package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Fetch downloads bytes [offset, size) of uri and passes them to sink in
// consecutive chunks, in order, each byte once: the first chunk starts at
// offset, each next one where the previous ended, and each holds at most
// ChunkSize bytes (never zero). The chunk's memory is reused for the next
// one as soon as sink returns: a sink that keeps bytes must copy them.
//
// size is the size the manifest declares and offset is what the sink
// already holds, from an earlier call (0 for a fresh download). Fetch
// returns nil once the sink holds exactly size bytes and the server has
// shown no byte beyond them; offset == size returns nil without a request.
// A server with more bytes gets ErrTooLong, and the sink never sees a byte
// past size.
//
// Within one call a failed attempt is resumed from the last byte the sink
// accepted, with "Range: bytes=N-". A 206 must carry a Content-Range that
// starts at N and agrees with size; a 416 at N == size means the payload was
// complete. A 200 to a Range request (a server that ignores Range) is
// skipped up to N by reading and discarding, if N is at most MaxDiscard, and
// refused with ErrRangeIgnored otherwise; its Content-Length, if any, must
// be size, for a 200 of any other length is not the payload to skip into.
//
// Fetch makes at most MaxAttempts attempts (the redirects followed within
// one are not counted). Connection errors, stalls, timeouts, 408, 429, 5xx
// and ErrTruncated are retried after the backoff; everything else ends the
// call at once: ErrPermanent and its wrappers (404
// and 410 as ErrNotFound, ErrTooLong, ErrBadResponse...), an error from sink
// (which the result wraps), a TLS certificate failure, ctx being done. When
// the attempts run out the error wraps ErrAttemptsExhausted and the last
// cause. Every error after a request names the attempts and the bytes
// delivered; the URI in it has its password and query removed.
//
// A uri that is not http or https gets ErrUnsupportedScheme without a
// request.
func (d *Downloader) Fetch(ctx context.Context, uri string, size, offset uint64, sink func(offset uint64, chunk []byte) error) error {
	u, err := parseURI(uri)
	if err != nil {
		return err
	}
	name := redact(u)
	switch {
	case sink == nil:
		return fmt.Errorf("fetch %s: %w: nil sink", name, ErrInvalidArgument)
	case offset > size:
		return fmt.Errorf("fetch %s: %w: offset %d past size %d", name, ErrInvalidArgument, offset, size)
	case offset == size:
		return nil
	}
	t := &transfer{
		d:    d,
		url:  u.String(),
		name: name,
		size: size,
		pos:  offset,
		sink: sink,
		buf:  make([]byte, min(uint64(d.chunk), size-offset)),
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return t.canceled(ctx, attempt-1)
		}
		err := t.attempt(ctx, attempt)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return t.canceled(ctx, attempt)
		case !retryable(err):
			return fmt.Errorf("fetch %s: attempt %d of %d, %d of %d bytes delivered: %w",
				name, attempt, d.maxAttempts, t.pos, size, err)
		case attempt >= d.maxAttempts:
			return fmt.Errorf("fetch %s: %w after %d attempts, %d of %d bytes delivered: %w",
				name, ErrAttemptsExhausted, attempt, t.pos, size, err)
		}
		if err := d.sleep(ctx, d.delay(attempt, err)); err != nil {
			return fmt.Errorf("fetch %s: waiting after attempt %d of %d, %d of %d bytes delivered: %w",
				name, attempt, d.maxAttempts, t.pos, size, err)
		}
	}
}

// canceled is the error of a Fetch whose context is done.
func (t *transfer) canceled(ctx context.Context, attempts int) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return fmt.Errorf("fetch %s: stopped after %d attempts, %d of %d bytes delivered: %w",
		t.name, attempts, t.pos, t.size, err)
}

// retryable tells whether another attempt could succeed where this one
// failed. Anything not known to be permanent is taken as a network fault.
func retryable(err error) bool {
	var se *sinkError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.As(err, &se), errors.As(err, &ce):
		return false
	case errors.Is(err, ErrPermanent), errors.Is(err, ErrUnsupportedScheme), errors.Is(err, ErrInvalidArgument):
		return false
	}
	return true
}

// delay is the wait after failed attempt n (from 1).
func (d *Downloader) delay(n int, err error) time.Duration {
	b := d.initial
	for i := 1; i < n && b < d.max; i++ {
		b *= 2
	}
	b = min(b, d.max)
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		b = max(b, min(se.RetryAfter, d.max))
	}
	return b
}

func parseURI(uri string) (*url.URL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		// url.Error repeats the URI, which may hold credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch: %w: parse URI: %v", ErrInvalidArgument, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch: %w %q", ErrUnsupportedScheme, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("fetch: %w: URI without a host", ErrInvalidArgument)
	}
	return u, nil
}

// redact returns u for error messages: no password, no query (signed URLs
// carry their token there), no fragment.
func redact(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User(r.User.Username())
	}
	q := r.RawQuery != ""
	r.RawQuery, r.ForceQuery, r.Fragment, r.RawFragment = "", false, "", ""
	if q {
		return r.String() + "?…"
	}
	return r.String()
}
