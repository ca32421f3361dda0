package fetch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is what the fake server does with one request.
type step struct {
	status         int    // answer this status, empty body
	retryAfter     string // Retry-After with status
	ignoreRange    bool   // answer 200 with the whole content, whatever the Range
	dropAfter      int    // > 0: send this many body bytes, then close the connection
	stallAfter     int    // > 0: send this many body bytes, then nothing until the client leaves
	hang           bool   // send nothing at all until the client leaves
	chunked        bool   // chunked framing instead of Content-Length
	contentRange   string // replaces the Content-Range of a 206, or is sent with status
	noContentRange bool   // a 206 without Content-Range
	etag           string
	encoding       string // Content-Encoding
}

// fakeServer serves content by the script in steps (the last step repeats;
// no steps is an honest server that honours Range) and records the Range
// header of every request.
type fakeServer struct {
	*httptest.Server
	t       *testing.T
	content []byte
	steps   []step
	hung    chan struct{} // one value each time a hang or stall step has sent all it sends
	done    chan struct{} // closed at cleanup: releases hanging handlers

	mu     sync.Mutex
	ranges []string
}

func newServer(t *testing.T, content []byte, steps ...step) *fakeServer {
	t.Helper()
	s := newUnstarted(t, content, steps)
	s.Start()
	return s
}

func newTLSServer(t *testing.T, content []byte, steps ...step) *fakeServer {
	t.Helper()
	s := newUnstarted(t, content, steps)
	s.StartTLS()
	return s
}

func newUnstarted(t *testing.T, content []byte, steps []step) *fakeServer {
	s := &fakeServer{t: t, content: content, steps: steps, hung: make(chan struct{}, 16), done: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(s)
	t.Cleanup(s.Close) // runs after close(done): Close waits for handlers
	t.Cleanup(func() { close(s.done) })
	return s
}

// requests returns the Range header of every request so far, "" for none.
func (s *fakeServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.ranges)
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	var st step
	if len(s.steps) > 0 {
		st = s.steps[min(i, len(s.steps)-1)]
	}
	s.mu.Unlock()

	if ae := r.Header.Get("Accept-Encoding"); ae != "identity" {
		s.t.Errorf("request %d: Accept-Encoding %q, want identity", i+1, ae)
	}
	h := w.Header()
	switch {
	case st.hang:
		s.hold(r)
		return
	case st.status != 0:
		if st.retryAfter != "" {
			h.Set("Retry-After", st.retryAfter)
		}
		if st.contentRange != "" {
			h.Set("Content-Range", st.contentRange)
		}
		w.WriteHeader(st.status)
		fmt.Fprintf(w, "%d %s\n", st.status, http.StatusText(st.status)) // as servers do
		return
	}

	status, start := http.StatusOK, 0
	if rg := r.Header.Get("Range"); rg != "" && !st.ignoreRange {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n <= 0 || rg != fmt.Sprintf("bytes=%d-", n) {
			s.t.Errorf("request %d: Range %q", i+1, rg)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n >= len(s.content) {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(s.content)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			fmt.Fprintln(w, "invalid range: failed to overlap") // as http.ServeContent does
			return
		}
		status, start = http.StatusPartialContent, n
	}
	body := s.content[start:]
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(s.content)-1, len(s.content)))
		if st.contentRange != "" {
			h.Set("Content-Range", st.contentRange)
		}
		if st.noContentRange {
			h.Del("Content-Range")
		}
	}
	h.Set("Content-Type", "application/octet-stream")
	if st.etag != "" {
		h.Set("ETag", st.etag)
	}
	if st.encoding != "" {
		h.Set("Content-Encoding", st.encoding)
	}
	if st.dropAfter > 0 {
		s.drop(w, status, body[:min(st.dropAfter, len(body))], len(body), st.chunked)
		return
	}
	rc := http.NewResponseController(w)
	if !st.chunked {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if st.chunked {
		_ = rc.Flush() // headers out without a length: chunked
	}
	if st.stallAfter > 0 {
		_, _ = w.Write(body[:min(st.stallAfter, len(body))])
		_ = rc.Flush()
		s.hold(r)
		return
	}
	_, _ = w.Write(body)
}

// drop writes the response by hand on the hijacked connection, announcing
// length bytes (or chunked framing) but sending only part, and closes it.
func (s *fakeServer) drop(w http.ResponseWriter, status int, part []byte, length int, chunked bool) {
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	h := w.Header().Clone()
	if chunked {
		h.Set("Transfer-Encoding", "chunked")
	} else {
		h.Set("Content-Length", strconv.Itoa(length))
	}
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = h.Write(bw)
	_, _ = bw.WriteString("\r\n")
	if chunked {
		fmt.Fprintf(bw, "%x\r\n%s\r\n", len(part), part) // no last chunk
	} else {
		_, _ = bw.Write(part)
	}
	if err := bw.Flush(); err != nil {
		s.t.Errorf("drop: %v", err)
	}
}

// hold keeps a request open until the client leaves or the test ends.
func (s *fakeServer) hold(r *http.Request) {
	select {
	case s.hung <- struct{}{}:
	default:
	}
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
}

// recorder is a sink that checks the chunks it is given and keeps a copy.
type recorder struct {
	t      *testing.T
	size   uint64
	next   uint64 // where the next chunk must start
	chunk  int    // the ChunkSize in force
	got    []byte // every byte received, from the first offset on
	calls  int
	failAt int   // fail the call with this number (from 1) with failErr
	fail   error //
	before func(off uint64, chunk []byte)
}

func newRecorder(t *testing.T, size, offset uint64, chunk int) *recorder {
	return &recorder{t: t, size: size, next: offset, chunk: chunk}
}

func (r *recorder) sink(off uint64, chunk []byte) error {
	r.calls++
	if r.before != nil {
		r.before(off, chunk)
	}
	if r.calls == r.failAt {
		return r.fail
	}
	switch {
	case off != r.next:
		r.t.Errorf("chunk %d at offset %d, want %d", r.calls, off, r.next)
	case len(chunk) == 0 || len(chunk) > r.chunk:
		r.t.Errorf("chunk %d of %d bytes, want 1 to %d", r.calls, len(chunk), r.chunk)
	case off+uint64(len(chunk)) > r.size:
		r.t.Errorf("chunk %d ends at %d, past the size %d", r.calls, off+uint64(len(chunk)), r.size)
	}
	r.got = append(r.got, chunk...)
	r.next = off + uint64(len(chunk))
	clear(chunk) // the buffer is Fetch's again: a sink that kept it would see this
	return nil
}

// sleeper is an injected Backoff.Sleep: it records and returns at once.
type sleeper struct {
	mu     sync.Mutex
	slept  []time.Duration
	before func()
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.slept = append(s.slept, d)
	s.mu.Unlock()
	if s.before != nil {
		s.before()
	}
	return ctx.Err()
}

func (s *sleeper) durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.slept...)
}

// fakeTimer stands for the stall watchdog's timer: the test fires it.
type fakeTimer struct {
	mu      sync.Mutex
	f       func()
	running bool
}

func (t *fakeTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.running
	t.running = false
	return was
}

func (t *fakeTimer) Reset(time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.running
	t.running = true
	return was
}

func (t *fakeTimer) isRunning() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.running
}

// fakeTimers hands out one fakeTimer per attempt.
type fakeTimers struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

func (ft *fakeTimers) afterFunc(_ time.Duration, f func()) stopper {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{f: f, running: true}
	ft.timers = append(ft.timers, t)
	return t
}

// last is the timer of the current attempt.
func (ft *fakeTimers) last() *fakeTimer {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.timers[len(ft.timers)-1]
}

// pattern returns n deterministic bytes that do not repeat with a short
// period, so that a misplaced chunk shows.
func pattern(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
