package fetch

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Config sets up a Downloader. The zero value is usable: http.DefaultClient,
// DefaultMaxAttempts, DefaultChunkSize, the default backoff and stall
// timeout, real time, no progress reports.
type Config struct {
	// Client sends the requests; nil means http.DefaultClient. Its
	// transport, proxy and TLS settings are used as they are. New keeps a
	// shallow copy whose redirect policy additionally refuses schemes
	// other than http and https, https-to-http downgrades and more than
	// MaxRedirects redirects, before calling Client.CheckRedirect if set.
	Client *http.Client
	// MaxAttempts is the number of requests one Fetch may make in total,
	// resumptions included; 0 means DefaultMaxAttempts, at most
	// MaxAttemptsLimit.
	MaxAttempts int
	// Backoff is the wait between attempts.
	Backoff Backoff
	// ChunkSize is the largest chunk handed to the sink; 0 means
	// DefaultChunkSize, at most MaxChunkSize.
	ChunkSize int
	// StallTimeout abandons an attempt that receives no byte for this long
	// (the time the sink takes is not counted); the next attempt resumes.
	// 0 means DefaultStallTimeout; negative turns the watchdog off, leaving
	// stalls to the Client's timeouts and the context.
	StallTimeout time.Duration
	// Progress, if set, is called after every chunk the sink accepted, on
	// the goroutine that called Fetch. It must not block for long; with
	// concurrent Fetch calls it is called concurrently.
	Progress func(Progress)
}

// Backoff is the wait after a failed attempt: Initial after the first,
// doubled after each further one, never more than Max. A server's
// Retry-After lengthens the wait, up to Max as well, so that a server cannot
// park the device.
type Backoff struct {
	// Initial is the first wait; 0 means DefaultBackoffInitial.
	Initial time.Duration
	// Max caps every wait; 0 means DefaultBackoffMax (or Initial, if that
	// is larger).
	Max time.Duration
	// Sleep waits d or until ctx is done, and then returns ctx's error; any
	// error ends the Fetch. Nil means a real timer. Tests inject one that
	// records d and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Progress is a report on a running Fetch.
type Progress struct {
	// Delivered is the number of bytes of the payload the sink holds:
	// bytes [0, Delivered), a starting offset included.
	Delivered uint64
	// Total is the declared size.
	Total uint64
	// Attempt is the attempt, from 1, that delivered the last chunk.
	Attempt int
}

// Downloader fetches payloads. It holds no state between calls: one
// Downloader may run any number of Fetch calls concurrently.
type Downloader struct {
	client      *http.Client
	maxAttempts int
	initial     time.Duration
	max         time.Duration
	sleep       func(context.Context, time.Duration) error
	chunk       int
	stall       time.Duration // 0: no watchdog
	progress    func(Progress)

	// Replaced by tests only.
	afterFunc  func(time.Duration, func()) stopper
	maxDiscard uint64
}

// stopper is the part of *time.Timer the stall watchdog uses.
type stopper interface {
	Stop() bool
	Reset(time.Duration) bool
}

// New checks cfg and returns a Downloader, or an error wrapping ErrConfig.
func New(cfg Config) (*Downloader, error) {
	d := &Downloader{
		maxAttempts: cfg.MaxAttempts,
		initial:     cfg.Backoff.Initial,
		max:         cfg.Backoff.Max,
		sleep:       cfg.Backoff.Sleep,
		chunk:       cfg.ChunkSize,
		stall:       cfg.StallTimeout,
		progress:    cfg.Progress,
		afterFunc:   func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) },
		maxDiscard:  MaxDiscard,
	}
	switch {
	case d.maxAttempts < 0 || d.maxAttempts > MaxAttemptsLimit:
		return nil, fmt.Errorf("%w: MaxAttempts %d not in [1, %d]", ErrConfig, d.maxAttempts, MaxAttemptsLimit)
	case d.chunk < 0 || d.chunk > MaxChunkSize:
		return nil, fmt.Errorf("%w: ChunkSize %d not in [1, %d]", ErrConfig, d.chunk, MaxChunkSize)
	case d.initial < 0 || d.max < 0:
		return nil, fmt.Errorf("%w: negative backoff %v, %v", ErrConfig, d.initial, d.max)
	case d.initial > 0 && d.max > 0 && d.initial > d.max:
		return nil, fmt.Errorf("%w: backoff Initial %v exceeds Max %v", ErrConfig, d.initial, d.max)
	}
	if d.maxAttempts == 0 {
		d.maxAttempts = DefaultMaxAttempts
	}
	if d.chunk == 0 {
		d.chunk = DefaultChunkSize
	}
	if d.initial == 0 {
		d.initial = DefaultBackoffInitial
		if d.max > 0 {
			d.initial = min(d.initial, d.max)
		}
	}
	if d.max == 0 {
		d.max = max(DefaultBackoffMax, d.initial)
	}
	if d.sleep == nil {
		d.sleep = sleepContext
	}
	switch {
	case d.stall == 0:
		d.stall = DefaultStallTimeout
	case d.stall < 0:
		d.stall = 0
	}
	d.client = guardRedirects(cfg.Client)
	return d, nil
}

// sleepContext is the real Backoff.Sleep.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// guardRedirects returns a copy of c (http.DefaultClient if nil) whose
// redirect policy refuses what Fetch refuses in a URI, and downgrades.
func guardRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrPermanent, MaxRedirects)
		}
		switch s := req.URL.Scheme; {
		case s != "http" && s != "https":
			return fmt.Errorf("%w: redirect to %q", ErrUnsupportedScheme, s)
		case s == "http" && via[len(via)-1].URL.Scheme == "https":
			return fmt.Errorf("%w: redirect from https down to http", ErrUnsupportedScheme)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cc
}
