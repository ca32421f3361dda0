package tamtest

import (
	"io"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Clock is a settable clock shared by a TAM and its devices.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// T0 is the time every Clock starts at.
var T0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// NewClock is a Clock at T0.
func NewClock() *Clock { return &Clock{now: T0} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Seeded is deterministic randomness, safe for concurrent use.
func Seeded(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &lockedReader{r: mrand.NewChaCha8(s)}
}

type lockedReader struct {
	mu sync.Mutex
	r  *mrand.ChaCha8
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
