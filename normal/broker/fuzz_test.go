package broker

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// FuzzResponse: whatever a TAM answers (status, Content-Type,
// Retry-After, body), the broker's reading of it does not panic, reads
// at most MaxMessage+1 bytes, takes a message only from a 200 of
// application/teep+cbor, bounded and not empty, ends a session only on a
// 204, and classifies everything else with a typed error; a long poll's
// answer likewise; a Retry-After never waits past MaxRetryAfter.
func FuzzResponse(f *testing.F) {
	f.Add(200, MediaType, "", []byte{0x83, 0x01, 0x02, 0x03})
	f.Add(200, MediaType+"; charset=x", "", []byte{0xa0})
	f.Add(204, "", "", []byte{})
	f.Add(429, "text/plain", "7", []byte("slow down"))
	f.Add(503, "", "Wed, 21 Oct 2015 07:28:00 GMT", []byte{})
	f.Add(200, "text/html", "", []byte("<html>"))
	f.Add(302, "", "99999999999999999999999", []byte{})
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", contentType)
		h.Set("Retry-After", retryAfter)
		r := &countingReader{r: bytes.NewReader(body)}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(r), ContentLength: -1}
		msg, err := readMessage(resp)
		if r.n > MaxMessage+1 {
			t.Fatalf("read %d bytes", r.n)
		}
		switch {
		case err == nil && status == http.StatusNoContent:
			if msg != nil {
				t.Fatal("a 204 carried a message")
			}
		case err == nil:
			if status != http.StatusOK || len(msg) == 0 || len(msg) > MaxMessage || !bytes.Equal(msg, body) {
				t.Fatalf("took a message of %d bytes from a %d", len(msg), status)
			}
		case !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrRefused) && !errors.Is(err, ErrUnavailable):
			t.Fatalf("untyped error %v", err)
		}
		var se *StatusError
		if errors.As(err, &se) && se.RetryAfter < 0 {
			t.Fatalf("Retry-After %q read as %v", retryAfter, se.RetryAfter)
		}
		if err != nil {
			b := &Broker{initial: time.Second, max: 30 * time.Second, rand: seededRand()}
			if d := b.delay(1, err); d < 0 || d > MaxRetryAfter {
				t.Fatalf("waits %v after %v", d, err)
			}
		}
		asked, perr := pollAnswer(status, h)
		switch {
		case status == http.StatusOK && (!asked || perr != nil),
			status == http.StatusNoContent && (asked || perr != nil),
			status != http.StatusOK && status != http.StatusNoContent && perr == nil:
			t.Fatalf("poll answer %d read as %v, %v", status, asked, perr)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
