package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst requests at once, then Per second.
type Rate struct {
	Per   rate.Limit
	Burst int
}

// NewRate is a Rate of perSecond requests a second after a burst of
// burst, refused (ErrRate) unless perSecond is in (0, MaxRatePerSecond]
// and burst in 1..MaxBurst: a zero rate would never refill, and a zero
// burst admit nothing.
func NewRate(perSecond float64, burst int) (Rate, error) {
	if !(perSecond > 0 && perSecond <= MaxRatePerSecond) { // also refuses NaN
		return Rate{}, fmt.Errorf("%w: %v requests a second, want more than 0, at most %g", ErrRate, perSecond, float64(MaxRatePerSecond))
	}
	if burst < 1 || burst > MaxBurst {
		return Rate{}, fmt.Errorf("%w: a burst of %d, want 1 to %d", ErrRate, burst, MaxBurst)
	}
	return Rate{Per: rate.Limit(perSecond), Burst: burst}, nil
}

// Default rates per source: a device opens a TEEP session with a handful
// of requests every poll interval; a person logs in a few times a day.
var (
	DefaultTEEPRate  = Rate{Per: 5, Burst: 20}
	DefaultLoginRate = Rate{Per: rate.Every(time.Minute / 5), Burst: 10}
	// DefaultFailureRate bounds failed authentications per source, so
	// that a flood of bad tokens cannot fill the audit trail with
	// refusal rows.
	DefaultFailureRate = Rate{Per: 1, Burst: 30}
)

// limiter throttles per source. The time is the caller's (the gate's
// clock), so that tests are deterministic. Safe for concurrent use.
type limiter struct {
	rate Rate
	max  int

	mu       sync.Mutex
	sources  map[string]*rate.Limiter
	overflow *rate.Limiter
}

func newLimiter(r Rate, maxSources int) *limiter {
	return &limiter{rate: r, max: maxSources, sources: map[string]*rate.Limiter{}, overflow: rate.NewLimiter(r.Per, r.Burst)}
}

func (l *limiter) get(src string, now time.Time) *rate.Limiter {
	if b, ok := l.sources[src]; ok {
		return b
	}
	if len(l.sources) >= l.max {
		// A full bucket is the same as a new one: forget those.
		for k, b := range l.sources {
			if b.TokensAt(now) >= float64(l.rate.Burst) {
				delete(l.sources, k)
			}
		}
		if len(l.sources) >= l.max {
			return l.overflow
		}
	}
	b := rate.NewLimiter(l.rate.Per, l.rate.Burst)
	l.sources[src] = b
	return b
}

// allow takes one request from src's bucket.
func (l *limiter) allow(src string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.get(src, now).AllowN(now, 1)
}

// exhausted reports whether src's bucket is empty, taking nothing.
func (l *limiter) exhausted(src string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.get(src, now).TokensAt(now) < 1
}

// source is who a request comes from, for rate limits: the peer's
// address, with an IPv6 peer's /64 (one host usually holds a whole /64).
// Forwarding headers are not read: the TAM is not behind a proxy it
// trusts, and any client can write them.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64) // cannot fail: a is IPv6 and 64 <= 128
		return p.String()
	}
	return a.String()
}
