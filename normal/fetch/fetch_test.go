package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testSize    = 100_000
	testChunk   = 16 << 10
	testInitial = 100 * time.Millisecond
	testMax     = 10 * time.Second
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// newTestDownloader returns a Downloader for srv with test backoff, small
// chunks, and s as its Sleep.
func newTestDownloader(t *testing.T, srv *fakeServer, s *sleeper, maxAttempts int) *Downloader {
	t.Helper()
	d, err := New(Config{
		Client:      srv.Client(),
		MaxAttempts: maxAttempts,
		Backoff:     Backoff{Initial: testInitial, Max: testMax, Sleep: s.sleep},
		ChunkSize:   testChunk,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFetch(t *testing.T) {
	content := pattern(testSize)
	long := pattern(testSize + 5000)
	short := content[:testSize-5000]
	errSink := errors.New("flash full")

	for _, tc := range []struct {
		name        string
		content     []byte // nil: content
		tls         bool
		offset      uint64
		steps       []step
		maxAttempts int
		maxDiscard  uint64 // 0: MaxDiscard
		failSinkAt  int
		wantErr     []error // each must match with errors.Is; none: success
		wantNot     []error // none may match
		wantRanges  []string
		wantSleeps  []time.Duration
		wantGot     int // bytes the sink accepts
	}{
		{
			name:       "200 full body",
			wantRanges: []string{""},
			wantGot:    testSize,
		},
		{
			name:       "200 chunked body",
			steps:      []step{{chunked: true}},
			wantRanges: []string{""},
			wantGot:    testSize,
		},
		{
			name:       "200 over https",
			tls:        true,
			wantRanges: []string{""},
			wantGot:    testSize,
		},
		{
			name:       "connection dropped three times, resumed with Range",
			steps:      []step{{dropAfter: 10_000}, {dropAfter: 10_000}, {dropAfter: 10_000}, {}},
			wantRanges: []string{"", "bytes=10000-", "bytes=20000-", "bytes=30000-"},
			wantSleeps: []time.Duration{ms(100), ms(200), ms(400)},
			wantGot:    testSize,
		},
		{
			name:       "connection dropped after the last byte, 416 completes",
			steps:      []step{{dropAfter: testSize, chunked: true}, {}},
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "server ignores Range, the prefix is skipped",
			steps:      []step{{dropAfter: 30_000}, {ignoreRange: true}},
			wantRanges: []string{"", "bytes=30000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "server ignores Range, dropped again, skipped again",
			steps:      []step{{dropAfter: 30_000}, {ignoreRange: true, dropAfter: 50_000}, {ignoreRange: true}},
			wantRanges: []string{"", "bytes=30000-", "bytes=50000-"},
			wantSleeps: []time.Duration{ms(100), ms(200)},
			wantGot:    testSize,
		},
		{
			name:       "server ignores Range beyond MaxDiscard",
			steps:      []step{{dropAfter: 30_000}, {ignoreRange: true}},
			maxDiscard: 20_000,
			wantErr:    []error{ErrRangeIgnored, ErrPermanent},
			wantNot:    []error{ErrAttemptsExhausted},
			wantRanges: []string{"", "bytes=30000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    30_000,
		},
		{
			name:       "404 not retried",
			steps:      []step{{status: http.StatusNotFound}},
			wantErr:    []error{ErrNotFound, ErrPermanent},
			wantNot:    []error{ErrAttemptsExhausted},
			wantRanges: []string{""},
		},
		{
			name:       "503 twice then OK, Retry-After honoured",
			steps:      []step{{status: 503, retryAfter: "7"}, {status: 503}, {}},
			wantRanges: []string{"", "", ""},
			wantSleeps: []time.Duration{7 * time.Second, ms(200)},
			wantGot:    testSize,
		},
		{
			name:       "Retry-After capped at Backoff.Max",
			steps:      []step{{status: 429, retryAfter: "86400"}, {}},
			wantRanges: []string{"", ""},
			wantSleeps: []time.Duration{testMax},
			wantGot:    testSize,
		},
		{
			name:       "Retry-After shorter than the backoff",
			steps:      []step{{status: 503}, {status: 503, retryAfter: "0"}, {}},
			wantRanges: []string{"", "", ""},
			wantSleeps: []time.Duration{ms(100), ms(200)},
			wantGot:    testSize,
		},
		{
			name:       "Retry-After as a date is ignored",
			steps:      []step{{status: 503, retryAfter: "Fri, 31 Dec 1999 23:59:59 GMT"}, {}},
			wantRanges: []string{"", ""},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:        "always 503 stops after MaxAttempts",
			steps:       []step{{status: 503}},
			maxAttempts: 4,
			wantErr:     []error{ErrAttemptsExhausted, ErrUnavailable},
			wantRanges:  []string{"", "", "", ""},
			wantSleeps:  []time.Duration{ms(100), ms(200), ms(400)},
		},
		{
			name:       "body longer than size, Content-Length: nothing delivered",
			content:    long,
			wantErr:    []error{ErrTooLong},
			wantNot:    []error{ErrAttemptsExhausted},
			wantRanges: []string{""},
		},
		{
			name:       "body longer than size, chunked: exactly size delivered",
			content:    long,
			steps:      []step{{chunked: true}},
			wantErr:    []error{ErrTooLong},
			wantNot:    []error{ErrAttemptsExhausted},
			wantRanges: []string{""},
			wantGot:    testSize,
		},
		{
			name:       "body longer than size, seen in the Content-Range of a resume",
			content:    long,
			steps:      []step{{dropAfter: 10_000, chunked: true}, {}},
			wantErr:    []error{ErrTooLong},
			wantRanges: []string{"", "bytes=10000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    10_000,
		},
		{
			name:       "body longer than size, seen when confirming the end",
			content:    long,
			steps:      []step{{dropAfter: testSize, chunked: true}, {}},
			wantErr:    []error{ErrTooLong},
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "416 confirming the end, but with a larger size",
			steps:      []step{{dropAfter: testSize, chunked: true}, {status: 416, contentRange: "bytes */100001"}},
			wantErr:    []error{ErrTooLong},
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "416 confirming the end, without Content-Range",
			steps:      []step{{dropAfter: testSize, chunked: true}, {status: 416}},
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:        "body shorter than size: resumed, then exhausted",
			content:     short,
			maxAttempts: 3,
			wantErr:     []error{ErrAttemptsExhausted, ErrTruncated},
			wantRanges:  []string{"", "bytes=95000-", "bytes=95000-"},
			wantSleeps:  []time.Duration{ms(100), ms(200)},
			wantGot:     95_000,
		},
		{
			name:        "body shorter than size, chunked",
			content:     short,
			steps:       []step{{chunked: true}},
			maxAttempts: 2,
			wantErr:     []error{ErrAttemptsExhausted, ErrTruncated},
			wantRanges:  []string{"", "bytes=95000-"},
			wantSleeps:  []time.Duration{ms(100)},
			wantGot:     95_000,
		},
		{
			name:       "body shorter than size on a server that ignores Range",
			content:    short,
			steps:      []step{{ignoreRange: true}},
			wantErr:    []error{ErrBadResponse},
			wantNot:    []error{ErrAttemptsExhausted},
			wantRanges: []string{"", "bytes=95000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    95_000,
		},
		{
			name:       "server ignores Range when confirming the end",
			steps:      []step{{dropAfter: testSize, chunked: true}, {ignoreRange: true}},
			maxDiscard: 1000, // no skipping needed: Content-Length says it all
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "server ignores Range when confirming the end, chunked",
			steps:      []step{{dropAfter: testSize, chunked: true}, {ignoreRange: true, chunked: true}},
			wantRanges: []string{"", "bytes=100000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "sink error stops without retry",
			failSinkAt: 3,
			wantErr:    []error{errSink},
			wantNot:    []error{ErrAttemptsExhausted, ErrPermanent},
			wantRanges: []string{""},
			wantGot:    2 * testChunk,
		},
		{
			name:       "offset > 0 resumes a previous session",
			offset:     40_000,
			wantRanges: []string{"bytes=40000-"},
			wantGot:    testSize - 40_000,
		},
		{
			name:       "offset > 0 on a server that ignores Range",
			offset:     40_000,
			steps:      []step{{ignoreRange: true}},
			wantRanges: []string{"bytes=40000-"},
			wantGot:    testSize - 40_000,
		},
		{
			name:   "offset == size: nothing to do, no request",
			offset: testSize,
		},
		{
			name:       "Content-Range from the wrong byte refused",
			offset:     40_000,
			steps:      []step{{contentRange: "bytes 0-99999/100000"}},
			wantErr:    []error{ErrBadContentRange},
			wantRanges: []string{"bytes=40000-"},
		},
		{
			name:       "Content-Range total above size refused",
			offset:     40_000,
			steps:      []step{{contentRange: "bytes 40000-99999/200000"}},
			wantErr:    []error{ErrTooLong},
			wantRanges: []string{"bytes=40000-"},
		},
		{
			name:       "Content-Range malformed",
			offset:     40_000,
			steps:      []step{{contentRange: "bytes 40000-/100000"}},
			wantErr:    []error{ErrBadContentRange},
			wantRanges: []string{"bytes=40000-"},
		},
		{
			name:       "Content-Range disagrees with Content-Length",
			offset:     40_000,
			steps:      []step{{contentRange: "bytes 40000-49999/100000"}},
			wantErr:    []error{ErrBadContentRange},
			wantRanges: []string{"bytes=40000-"},
		},
		{
			name:       "206 without Content-Range",
			offset:     40_000,
			steps:      []step{{noContentRange: true}},
			wantErr:    []error{ErrBadContentRange},
			wantRanges: []string{"bytes=40000-"},
		},
		{
			name:       "payload changed between attempts (strong ETag)",
			steps:      []step{{dropAfter: 10_000, etag: `"v1"`}, {etag: `"v2"`}},
			wantErr:    []error{ErrBadResponse},
			wantRanges: []string{"", "bytes=10000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    10_000,
		},
		{
			name:       "same ETag across attempts",
			steps:      []step{{dropAfter: 10_000, etag: `"v1"`}, {etag: `"v1"`}},
			wantRanges: []string{"", "bytes=10000-"},
			wantSleeps: []time.Duration{ms(100)},
			wantGot:    testSize,
		},
		{
			name:       "Content-Encoding refused",
			steps:      []step{{encoding: "gzip"}},
			wantErr:    []error{ErrBadResponse},
			wantRanges: []string{""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.content
			if c == nil {
				c = content
			}
			var srv *fakeServer
			if tc.tls {
				srv = newTLSServer(t, c, tc.steps...)
			} else {
				srv = newServer(t, c, tc.steps...)
			}
			s := &sleeper{}
			var progress []Progress
			d, err := New(Config{
				Client:      srv.Client(),
				MaxAttempts: tc.maxAttempts,
				Backoff:     Backoff{Initial: testInitial, Max: testMax, Sleep: s.sleep},
				ChunkSize:   testChunk,
				Progress:    func(p Progress) { progress = append(progress, p) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.maxDiscard != 0 {
				d.maxDiscard = tc.maxDiscard
			}
			rec := newRecorder(t, testSize, tc.offset, testChunk)
			rec.failAt, rec.fail = tc.failSinkAt, errSink

			err = d.Fetch(context.Background(), srv.URL+"/fw.bin", testSize, tc.offset, rec.sink)

			if len(tc.wantErr) == 0 && err != nil {
				t.Errorf("Fetch: %v", err)
			}
			if len(tc.wantErr) > 0 && err == nil {
				t.Errorf("Fetch succeeded, want %v", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Fetch: %v, want errors.Is %v", err, want)
				}
			}
			for _, not := range tc.wantNot {
				if errors.Is(err, not) {
					t.Errorf("Fetch: %v, want not errors.Is %v", err, not)
				}
			}
			if got := srv.requests(); !slices.Equal(got, tc.wantRanges) {
				t.Errorf("Range headers %q, want %q", got, tc.wantRanges)
			}
			if got := s.durations(); !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("backoffs %v, want %v", got, tc.wantSleeps)
			}
			want := c[tc.offset : tc.offset+uint64(tc.wantGot)]
			if !bytes.Equal(rec.got, want) {
				t.Errorf("sink got %d bytes, want %d (equal prefix: %v)", len(rec.got), len(want), bytes.HasPrefix(want, rec.got))
			}
			checkProgress(t, progress, tc.offset, uint64(tc.wantGot))
		})
	}
}

func checkProgress(t *testing.T, ps []Progress, offset, got uint64) {
	t.Helper()
	last := offset
	for i, p := range ps {
		if p.Delivered <= last || p.Total != testSize || p.Attempt < 1 {
			t.Errorf("progress %d: %+v after %d delivered", i, p, last)
		}
		last = p.Delivered
	}
	if last != offset+got {
		t.Errorf("progress ends at %d, want %d", last, offset+got)
	}
}

func TestFetchStatusClassification(t *testing.T) {
	content := pattern(1000)
	for _, tc := range []struct {
		status    int
		transient bool
		notFound  bool
	}{
		{status: 204},
		{status: 400},
		{status: 401},
		{status: 403},
		{status: 404, notFound: true},
		{status: 405},
		{status: 409},
		{status: 410, notFound: true},
		{status: 418},
		{status: 451},
		{status: 408, transient: true},
		{status: 429, transient: true},
		{status: 500, transient: true},
		{status: 501, transient: true},
		{status: 502, transient: true},
		{status: 503, transient: true},
		{status: 504, transient: true},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := newServer(t, content, step{status: tc.status})
			s := &sleeper{}
			d := newTestDownloader(t, srv, s, 3)
			rec := newRecorder(t, 1000, 0, testChunk)
			err := d.Fetch(context.Background(), srv.URL, 1000, 0, rec.sink)

			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status {
				t.Fatalf("Fetch: %v, want a StatusError %d", err, tc.status)
			}
			wantRequests := 1
			if tc.transient {
				wantRequests = 3
			}
			if n := len(srv.requests()); n != wantRequests {
				t.Errorf("%d requests, want %d", n, wantRequests)
			}
			for _, c := range []struct {
				target error
				want   bool
			}{
				{ErrUnavailable, tc.transient},
				{ErrAttemptsExhausted, tc.transient},
				{ErrPermanent, !tc.transient},
				{ErrNotFound, tc.notFound},
			} {
				if errors.Is(err, c.target) != c.want {
					t.Errorf("Fetch: %v: errors.Is %v = %v, want %v", err, c.target, !c.want, c.want)
				}
			}
			if rec.calls != 0 {
				t.Errorf("sink called %d times", rec.calls)
			}
		})
	}
}

// The watchdog's timer is fake: the test fires it where a real one would,
// so the stall is deterministic and takes no time.
func TestFetchStall(t *testing.T) {
	content := pattern(90_000)
	const chunk = 10_000
	for _, tc := range []struct {
		name        string
		steps       []step
		maxAttempts int
		fireAt      func(end uint64) bool // fire after the chunk ending at end
		fireOnHang  bool
		wantErr     error
		wantRanges  []string
		wantGot     int
	}{
		{
			name:       "stall mid-body, resumed",
			steps:      []step{{stallAfter: 30_000}, {}},
			fireAt:     func(end uint64) bool { return end == 30_000 },
			wantRanges: []string{"", "bytes=30000-"},
			wantGot:    90_000,
		},
		{
			name:        "stall every time, exhausted",
			steps:       []step{{stallAfter: 30_000}},
			maxAttempts: 2,
			fireAt:      func(end uint64) bool { return end%30_000 == 0 },
			wantErr:     ErrStalled,
			wantRanges:  []string{"", "bytes=30000-"},
			wantGot:     60_000,
		},
		{
			name:       "stall before the headers, retried",
			steps:      []step{{hang: true}, {}},
			fireOnHang: true,
			wantRanges: []string{"", ""},
			wantGot:    90_000,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, content, tc.steps...)
			s := &sleeper{}
			d, err := New(Config{
				Client:      srv.Client(),
				MaxAttempts: tc.maxAttempts,
				Backoff:     Backoff{Initial: testInitial, Max: testMax, Sleep: s.sleep},
				ChunkSize:   chunk,
			})
			if err != nil {
				t.Fatal(err)
			}
			timers := &fakeTimers{}
			d.afterFunc = timers.afterFunc
			if tc.fireOnHang {
				go func() {
					<-srv.hung
					timers.last().f()
				}()
			}
			rec := newRecorder(t, uint64(len(content)), 0, chunk)
			rec.before = func(off uint64, b []byte) {
				tm := timers.last()
				if tm.isRunning() {
					t.Errorf("watchdog running while the sink writes at %d", off)
				}
				if tc.fireAt != nil && tc.fireAt(off+uint64(len(b))) {
					tm.f()
				}
			}
			err = d.Fetch(context.Background(), srv.URL, uint64(len(content)), 0, rec.sink)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Fetch: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && !errors.Is(err, ErrAttemptsExhausted) {
				t.Errorf("Fetch: %v, want attempts exhausted", err)
			}
			if got := srv.requests(); !slices.Equal(got, tc.wantRanges) {
				t.Errorf("Range headers %q, want %q", got, tc.wantRanges)
			}
			if !bytes.Equal(rec.got, content[:tc.wantGot]) {
				t.Errorf("sink got %d bytes, want %d", len(rec.got), tc.wantGot)
			}
		})
	}
}

func TestFetchCancel(t *testing.T) {
	content := pattern(testSize)
	for _, tc := range []struct {
		name         string
		steps        []step
		setup        func(cancel func(), srv *fakeServer, s *sleeper, rec *recorder)
		preCancel    bool
		wantRequests int
		wantSleeps   int
		wantGot      int
	}{
		{
			name:      "before the first request",
			preCancel: true,
		},
		{
			name: "while the body streams",
			setup: func(cancel func(), _ *fakeServer, _ *sleeper, rec *recorder) {
				rec.before = func(uint64, []byte) { cancel() }
			},
			wantRequests: 1,
			wantGot:      testChunk,
		},
		{
			name:  "while waiting for the headers",
			steps: []step{{hang: true}},
			setup: func(cancel func(), srv *fakeServer, _ *sleeper, _ *recorder) {
				go func() {
					<-srv.hung
					cancel()
				}()
			},
			wantRequests: 1,
		},
		{
			name:  "during the backoff",
			steps: []step{{status: 503}},
			setup: func(cancel func(), _ *fakeServer, s *sleeper, _ *recorder) {
				s.before = cancel
			},
			wantRequests: 1,
			wantSleeps:   1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, content, tc.steps...)
			s := &sleeper{}
			d := newTestDownloader(t, srv, s, 0)
			rec := newRecorder(t, testSize, 0, testChunk)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.setup != nil {
				tc.setup(cancel, srv, s, rec)
			}
			if tc.preCancel {
				cancel()
			}
			err := d.Fetch(ctx, srv.URL, testSize, 0, rec.sink)
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrAttemptsExhausted) {
				t.Errorf("Fetch: %v, want context.Canceled alone", err)
			}
			if n := len(srv.requests()); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			if n := len(s.durations()); n != tc.wantSleeps {
				t.Errorf("%d backoffs, want %d", n, tc.wantSleeps)
			}
			if len(rec.got) != tc.wantGot {
				t.Errorf("sink got %d bytes, want %d", len(rec.got), tc.wantGot)
			}
		})
	}
}

// refuseTransport fails the test if a request is made.
type refuseTransport struct{ t *testing.T }

func (rt refuseTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.t.Errorf("request to %s", r.URL)
	return nil, errors.New("no request expected")
}

func TestFetchRefusedBeforeRequest(t *testing.T) {
	sink := func(uint64, []byte) error { return nil }
	for _, tc := range []struct {
		name   string
		uri    string
		size   uint64
		offset uint64
		sink   func(uint64, []byte) error
		want   error
	}{
		{"ftp", "ftp://example.com/fw.bin", 10, 0, sink, ErrUnsupportedScheme},
		{"file", "file:///etc/passwd", 10, 0, sink, ErrUnsupportedScheme},
		{"coap", "coap://example.com/fw", 10, 0, sink, ErrUnsupportedScheme},
		{"no scheme", "example.com/fw.bin", 10, 0, sink, ErrUnsupportedScheme},
		{"empty", "", 10, 0, sink, ErrUnsupportedScheme},
		{"opaque", "http:fw.bin", 10, 0, sink, ErrInvalidArgument},
		{"no host", "http:///fw.bin", 10, 0, sink, ErrInvalidArgument},
		{"unparsable", "http://example.com/%zz", 10, 0, sink, ErrInvalidArgument},
		{"nil sink", "http://example.com/fw.bin", 10, 0, nil, ErrInvalidArgument},
		{"offset past size", "http://example.com/fw.bin", 10, 11, sink, ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Config{Client: &http.Client{Transport: refuseTransport{t}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Fetch(context.Background(), tc.uri, tc.size, tc.offset, tc.sink); !errors.Is(err, tc.want) {
				t.Errorf("Fetch: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	content := pattern(testSize)
	redirectTo := func(t *testing.T, target string, tls bool) *httptest.Server {
		h := http.RedirectHandler(target, http.StatusFound)
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(h)
		} else {
			srv = httptest.NewServer(h)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	t.Run("Range follows a redirect", func(t *testing.T) {
		target := newServer(t, content, step{dropAfter: 10_000}, step{})
		front := redirectTo(t, target.URL+"/fw.bin", false)
		s := &sleeper{}
		d := newTestDownloader(t, target, s, 0)
		rec := newRecorder(t, testSize, 0, testChunk)
		if err := d.Fetch(context.Background(), front.URL, testSize, 0, rec.sink); err != nil {
			t.Fatal(err)
		}
		if got, want := target.requests(), []string{"", "bytes=10000-"}; !slices.Equal(got, want) {
			t.Errorf("Range headers %q, want %q", got, want)
		}
		if !bytes.Equal(rec.got, content) {
			t.Error("payload differs")
		}
	})
	for _, tc := range []struct {
		name   string
		target func(t *testing.T) string
		tls    bool
	}{
		{"https down to http", func(t *testing.T) string { return newServer(t, content).URL }, true},
		{"http to ftp", func(*testing.T) string { return "ftp://example.com/fw.bin" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			front := redirectTo(t, tc.target(t), tc.tls)
			s := &sleeper{}
			d, err := New(Config{Client: front.Client(), Backoff: Backoff{Sleep: s.sleep}})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Fetch(context.Background(), front.URL, testSize, 0, func(uint64, []byte) error { return nil })
			if !errors.Is(err, ErrUnsupportedScheme) || errors.Is(err, ErrAttemptsExhausted) {
				t.Errorf("Fetch: %v, want ErrUnsupportedScheme, not retried", err)
			}
		})
	}
	t.Run("too many redirects", func(t *testing.T) {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		d, err := New(Config{Client: srv.Client(), Backoff: Backoff{Sleep: (&sleeper{}).sleep}})
		if err != nil {
			t.Fatal(err)
		}
		err = d.Fetch(context.Background(), srv.URL, 10, 0, func(uint64, []byte) error { return nil })
		if !errors.Is(err, ErrPermanent) || errors.Is(err, ErrAttemptsExhausted) {
			t.Errorf("Fetch: %v, want ErrPermanent, not retried", err)
		}
	})
}

// Signed URLs carry a token in the query and some URIs a password: neither
// may reach an error message, which ends up in logs and reports.
func TestFetchErrorsRedactURI(t *testing.T) {
	srv := newServer(t, nil, step{status: 404})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	for _, base := range []string{srv.URL, dead.URL} {
		uri := strings.Replace(base, "://", "://user:hunter2@", 1) + "/fw.bin?token=s3cret"
		d := newTestDownloader(t, srv, &sleeper{}, 2)
		err := d.Fetch(context.Background(), uri, 10, 0, func(uint64, []byte) error { return nil })
		if err == nil {
			t.Fatal("Fetch succeeded")
		}
		if msg := err.Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "s3cret") {
			t.Errorf("error shows a secret: %s", msg)
		}
	}
}

// settings are the fields of a Downloader that New derives from a Config.
type settings struct {
	maxAttempts, chunk  int
	initial, max, stall time.Duration
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
		want settings // compared when ok
	}{
		{name: "zero value", ok: true, want: settings{maxAttempts: DefaultMaxAttempts, chunk: DefaultChunkSize,
			initial: DefaultBackoffInitial, max: DefaultBackoffMax, stall: DefaultStallTimeout}},
		{name: "largest chunk", cfg: Config{ChunkSize: MaxChunkSize}, ok: true, want: settings{maxAttempts: DefaultMaxAttempts,
			chunk: MaxChunkSize, initial: DefaultBackoffInitial, max: DefaultBackoffMax, stall: DefaultStallTimeout}},
		{name: "small Max lowers the default Initial", cfg: Config{Backoff: Backoff{Max: ms(10)}}, ok: true,
			want: settings{maxAttempts: DefaultMaxAttempts, chunk: DefaultChunkSize, initial: ms(10), max: ms(10), stall: DefaultStallTimeout}},
		{name: "large Initial raises the default Max", cfg: Config{Backoff: Backoff{Initial: time.Minute}}, ok: true,
			want: settings{maxAttempts: DefaultMaxAttempts, chunk: DefaultChunkSize, initial: time.Minute, max: time.Minute, stall: DefaultStallTimeout}},
		{name: "watchdog off", cfg: Config{StallTimeout: -1}, ok: true, want: settings{maxAttempts: DefaultMaxAttempts,
			chunk: DefaultChunkSize, initial: DefaultBackoffInitial, max: DefaultBackoffMax}},
		{name: "chunk too large", cfg: Config{ChunkSize: MaxChunkSize + 1}},
		{name: "negative chunk", cfg: Config{ChunkSize: -1}},
		{name: "negative attempts", cfg: Config{MaxAttempts: -1}},
		{name: "too many attempts", cfg: Config{MaxAttempts: MaxAttemptsLimit + 1}},
		{name: "negative backoff", cfg: Config{Backoff: Backoff{Initial: -1}}},
		{name: "Initial above Max", cfg: Config{Backoff: Backoff{Initial: time.Second, Max: ms(10)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.cfg)
			if !tc.ok {
				if !errors.Is(err, ErrConfig) {
					t.Errorf("New: %v, want ErrConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := settings{maxAttempts: d.maxAttempts, chunk: d.chunk, initial: d.initial, max: d.max, stall: d.stall}
			if got != tc.want {
				t.Errorf("New: %+v, want %+v", got, tc.want)
			}
		})
	}
}
