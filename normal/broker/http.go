package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/teeup/teeup/normal/fetch"
)

// post sends msg (nil: the empty POST that opens a session) to the TEEP
// endpoint, retrying transient failures, and returns the TAM's next
// message, nil when it answered 204. Every request is counted in out.
//
// A retried POST may reach a TAM that processed the first one: the TAM
// then refuses the replayed message, and the session fails; the next
// session starts afresh. Nothing else is at stake, for the TAM's
// messages are single use by design.
func (b *Broker) post(ctx context.Context, out *Outcome, msg []byte) ([]byte, error) {
	var answer []byte
	err := b.retry(ctx, "POST "+b.endpoint, func(ctx context.Context) error {
		out.Requests++
		var err error
		answer, err = b.postOnce(ctx, msg)
		return err
	})
	return answer, err
}

// retry runs attempt until it succeeds, fails for good, or MaxAttempts
// attempts have failed; between two it waits the backoff.
func (b *Broker) retry(ctx context.Context, what string, attempt func(context.Context) error) error {
	for n := 1; ; n++ {
		err := attempt(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: attempt %d: %w", what, n, context.Cause(ctx))
		case !retryable(err):
			return fmt.Errorf("%s: attempt %d: %w", what, n, err)
		case n >= b.maxAttempts:
			return fmt.Errorf("%s: %w after %d attempts: %w", what, ErrAttemptsExhausted, n, err)
		}
		d := b.delay(n, err)
		b.log.Warn("TAM request failed, retrying", "request", what, "attempt", n, "err", err, "wait", d)
		if err := b.sleep(ctx, d); err != nil {
			return fmt.Errorf("%s: waiting after attempt %d: %w", what, n, err)
		}
	}
}

// delay is the wait after failed attempt n (from 1): the exponential
// backoff with jitter (uniform in its upper half), lengthened to the
// server's Retry-After, capped at MaxRetryAfter.
func (b *Broker) delay(n int, err error) time.Duration {
	d := b.initial
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	b.randMu.Lock()
	d = d/2 + time.Duration(b.rand.Int64N(int64(d/2)+1))
	b.randMu.Unlock()
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		d = max(d, min(se.RetryAfter, MaxRetryAfter))
	}
	return d
}

// postOnce is one attempt of post.
func (b *Broker) postOnce(ctx context.Context, msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.reqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.endpoint, bytes.NewReader(msg))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	req.Header.Set("Accept", MediaType)
	if len(msg) > 0 {
		req.Header.Set("Content-Type", MediaType)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, transportError(err)
	}
	defer resp.Body.Close()
	return readMessage(resp)
}

// transportError classifies a request that got no answer: a certificate
// that does not verify is final, anything else is the network.
func transportError(err error) error {
	var ce *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ce) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return fmt.Errorf("%w: %w", ErrNetwork, err)
}

// readMessage is what the broker makes of the TAM's answer to a POST: the
// next TEEP message of a 200 (application/teep+cbor, not empty, at most
// MaxMessage bytes), nil for a 204, a *StatusError for any other status.
// It reads no more than MaxMessage+1 bytes of a body.
func readMessage(resp *http.Response) ([]byte, error) {
	switch resp.StatusCode {
	case http.StatusNoContent:
		drain(resp.Body)
		return nil, nil
	case http.StatusOK:
	default:
		drain(resp.Body)
		return nil, &StatusError{StatusCode: resp.StatusCode, RetryAfter: fetch.ParseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != MediaType {
		drain(resp.Body)
		return nil, fmt.Errorf("%w: a 200 of Content-Type %q, not %s", ErrBadResponse, resp.Header.Get("Content-Type"), MediaType)
	}
	if resp.ContentLength > MaxMessage {
		return nil, fmt.Errorf("%w: Content-Length %d", ErrTooLarge, resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxMessage+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: reading the message: %w", ErrNetwork, err)
	case len(body) > MaxMessage:
		return nil, ErrTooLarge
	case len(body) == 0:
		return nil, fmt.Errorf("%w: a 200 with no message (a TAM with nothing to say answers 204)", ErrBadResponse)
	}
	return body, nil
}

// drain reads a little of a body that carries nothing for the broker, so
// that the connection may be reused.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain)) // best effort: a connection not reused costs nothing else
}

// pollOnce is one long poll: true when the TAM answers 200 (it has
// something for this device), false for 204 (nothing yet).
func (b *Broker) pollOnce(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, b.wait+b.reqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.pollURL, nil)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return false, transportError(err)
	}
	defer resp.Body.Close()
	drain(resp.Body)
	return pollAnswer(resp.StatusCode, resp.Header)
}

// pollAnswer is what a long poll's status says.
func pollAnswer(status int, h http.Header) (bool, error) {
	switch status {
	case http.StatusOK:
		return true, nil
	case http.StatusNoContent:
		return false, nil
	}
	return false, &StatusError{StatusCode: status, RetryAfter: fetch.ParseRetryAfter(h.Get("Retry-After"))}
}
