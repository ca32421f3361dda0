package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// transfer is the state of one Fetch call across its attempts.
type transfer struct {
	d    *Downloader
	url  string // as requested
	name string // as printed
	size uint64
	pos  uint64 // bytes [0, pos) are with the sink
	sink func(uint64, []byte) error
	buf  []byte // the chunk; at least one byte
	etag string // first strong ETag seen, "" if none yet
}

// attempt makes one request and delivers what it can. It returns nil when
// the payload is complete.
func (t *transfer) attempt(parent context.Context, attempt int) (err error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	w := t.d.watch(cancel)
	defer w.pause()
	defer func() {
		// The watchdog cancels the request; report why, unless the caller
		// canceled too or the sink failed on its own.
		var se *sinkError
		if err != nil && parent.Err() == nil && !errors.As(err, &se) && errors.Is(context.Cause(ctx), ErrStalled) {
			err = fmt.Errorf("%w: nothing received for %v at byte %d", ErrStalled, t.d.stall, t.pos)
		}
	}()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	// Identity, so that byte offsets are offsets into the payload and the
	// transport does not decompress behind our back.
	req.Header.Set("Accept-Encoding", "identity")
	if t.pos > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatUint(t.pos, 10)+"-")
	}
	resp, err := t.d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// Its message repeats the full URL, query included.
			return fmt.Errorf("%s request: %w", strings.ToLower(ue.Op), ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	w.kick()
	body := &watched{r: resp.Body, w: w}

	stop, err := t.check(resp)
	if err != nil || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
			// Not the payload: a little is read so the connection can be
			// reused, the rest dropped with it.
			_, _ = io.Copy(io.Discard, io.LimitReader(body, maxErrorDrain))
		}
		return err
	}
	if resp.StatusCode == http.StatusOK && t.pos > 0 {
		if t.pos == t.size && resp.ContentLength >= 0 {
			// Only confirming the end, and check found the length right.
			return nil
		}
		if err := t.discard(body); err != nil {
			return err
		}
	}
	return t.stream(ctx, body, stop, w, attempt)
}

// check decides what to do with the answer: it returns the offset at which
// the body should end, or an error. A 416 with a nil error says that the
// payload is complete; its body is not the payload.
func (t *transfer) check(resp *http.Response) (stop uint64, err error) {
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		return t.size, t.unsatisfiable(resp)
	default:
		return 0, &StatusError{StatusCode: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return 0, fmt.Errorf("%w: Content-Encoding %.40q, identity requested", ErrBadResponse, ce)
	}
	if err := t.sameETag(resp.Header.Get("ETag")); err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusOK {
		if resp.ContentLength >= 0 && uint64(resp.ContentLength) > t.size {
			return 0, fmt.Errorf("%w: Content-Length %d, declared size %d", ErrTooLong, resp.ContentLength, t.size)
		}
		if t.pos > 0 && resp.ContentLength >= 0 && uint64(resp.ContentLength) != t.size {
			// Not the whole payload: skipping t.pos bytes of it would shift
			// every byte after. A proxy that drops Content-Range does this.
			return 0, fmt.Errorf("%w: 200 of %d bytes to a request from byte %d of %d",
				ErrBadResponse, resp.ContentLength, t.pos, t.size)
		}
		return t.size, nil
	}

	crs := resp.Header.Values("Content-Range")
	if len(crs) != 1 {
		return 0, fmt.Errorf("%w: %d Content-Range headers in a 206", ErrBadContentRange, len(crs))
	}
	cr, err := parseContentRange(crs[0])
	switch {
	case err != nil:
		return 0, err
	case cr.unsatisfied:
		return 0, fmt.Errorf("%w: %.100q in a 206", ErrBadContentRange, crs[0])
	case cr.first != t.pos:
		return 0, fmt.Errorf("%w: %.100q, bytes from %d requested", ErrBadContentRange, crs[0], t.pos)
	case cr.hasTotal && cr.total > t.size || cr.last >= t.size:
		return 0, fmt.Errorf("%w: Content-Range %.100q, declared size %d", ErrTooLong, crs[0], t.size)
	case resp.ContentLength >= 0 && uint64(resp.ContentLength) != cr.last-cr.first+1:
		return 0, fmt.Errorf("%w: %.100q with Content-Length %d", ErrBadContentRange, crs[0], resp.ContentLength)
	}
	return cr.last + 1, nil
}

// unsatisfiable handles a 416: the server has no byte from t.pos on.
func (t *transfer) unsatisfiable(resp *http.Response) error {
	if t.pos < t.size {
		return fmt.Errorf("%w: 416 for bytes from %d", ErrTruncated, t.pos)
	}
	// Complete, unless the server says it has more.
	if cr, err := parseContentRange(resp.Header.Get("Content-Range")); err == nil && cr.unsatisfied && cr.total > t.size {
		return fmt.Errorf("%w: 416 with size %d, declared size %d", ErrTooLong, cr.total, t.size)
	}
	return nil
}

// sameETag refuses a strong ETag that differs from the first one seen: the
// payload changed between attempts and its pieces would not belong together.
func (t *transfer) sameETag(etag string) error {
	if etag == "" || strings.HasPrefix(etag, "W/") {
		return nil
	}
	if t.etag == "" {
		t.etag = etag
		return nil
	}
	if etag != t.etag {
		return fmt.Errorf("%w: payload changed between attempts: ETag %.80q, then %.80q", ErrBadResponse, t.etag, etag)
	}
	return nil
}

// discard reads and drops the first t.pos bytes of a 200 body, which the
// sink already holds, unless there are more than maxDiscard.
func (t *transfer) discard(body io.Reader) error {
	if t.pos > t.d.maxDiscard {
		return fmt.Errorf("%w: 200 to a request from byte %d; skipping more than %d bytes refused",
			ErrRangeIgnored, t.pos, t.d.maxDiscard)
	}
	for left := t.pos; left > 0; {
		n, err := fill(body, t.buf[:min(uint64(len(t.buf)), left)])
		left -= uint64(n)
		switch {
		case errors.Is(err, io.EOF) && left > 0:
			return fmt.Errorf("%w: whole-payload answer ended at byte %d while skipping to %d", ErrTruncated, t.pos-left, t.pos)
		case err != nil && !errors.Is(err, io.EOF):
			return fmt.Errorf("skip to byte %d: read body: %w", t.pos, err)
		}
	}
	return nil
}

// stream delivers the body's bytes up to stop, then checks that the body
// ends there. ctx is the attempt's.
func (t *transfer) stream(ctx context.Context, body io.Reader, stop uint64, w *watchdog, attempt int) error {
	var rerr error
	for t.pos < stop && rerr == nil {
		var n int
		n, rerr = fill(body, t.buf[:min(uint64(len(t.buf)), stop-t.pos)])
		if n == 0 {
			continue
		}
		w.pause()
		if err := t.sink(t.pos, t.buf[:n]); err != nil {
			return &sinkError{off: t.pos, err: err}
		}
		t.pos += uint64(n)
		if t.d.progress != nil {
			t.d.progress(Progress{Delivered: t.pos, Total: t.size, Attempt: attempt})
		}
		// Buffered bytes may still arrive after a cancel; stop at once.
		if err := ctx.Err(); err != nil {
			return err
		}
		w.kick()
	}
	if rerr == nil {
		// One byte more must not exist.
		var n int
		n, rerr = fill(body, t.buf[:1])
		switch {
		case n > 0 && stop == t.size:
			return fmt.Errorf("%w: the body goes on past byte %d", ErrTooLong, t.size)
		case n > 0:
			return fmt.Errorf("%w: the body goes on past its range end %d", ErrBadContentRange, stop-1)
		}
	}
	switch {
	case errors.Is(rerr, io.EOF) && t.pos == t.size:
		return nil
	case errors.Is(rerr, io.EOF) && t.pos < stop:
		return fmt.Errorf("%w: body ended at byte %d, before %d", ErrTruncated, t.pos, stop)
	case errors.Is(rerr, io.EOF):
		return fmt.Errorf("%w: answer ended at byte %d of %d", ErrTruncated, t.pos, t.size)
	}
	// A connection lost after the last byte lands here too; the next attempt
	// asks from t.size and a 416 completes the payload.
	return fmt.Errorf("read body at byte %d: %w", t.pos, rerr)
}

// fill reads into buf until it is full, the body ends (io.EOF, not
// io.ErrUnexpectedEOF: a short fill is not an error here) or fails.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ParseRetryAfter parses a Retry-After header's delta-seconds, capped at
// what a time.Duration holds; anything else is 0, an HTTP date included:
// a device's clock cannot be trusted to compare it.
func ParseRetryAfter(v string) time.Duration {
	s, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0
	}
	const most = uint64(math.MaxInt64 / int64(time.Second))
	return time.Duration(min(s, most)) * time.Second
}
