package device

import (
	"errors"
	"time"
)

// RestartPolicy caps the restarts after crashes, as systemd's
// StartLimitBurst and StartLimitIntervalSec do, with a delay that doubles
// at each crash of a window (RestartSec, RestartMaxDelaySec). Resets the
// device asks for and power cuts are not crashes.
type RestartPolicy struct {
	// Burst crashes within Interval are restarted; one more halts.
	Burst    int
	Interval time.Duration
	// Delay before the first restart of a window, doubled at each
	// further one up to MaxDelay.
	Delay, MaxDelay time.Duration
}

// DefaultRestartPolicy is what a zero RestartPolicy means.
var DefaultRestartPolicy = RestartPolicy{Burst: 5, Interval: 10 * time.Second,
	Delay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}

// ErrCrashLoop is returned by Supervisor.Run when the worlds crashed more
// often than its RestartPolicy allows.
var ErrCrashLoop = errors.New("device: crash loop")

// crashes counts the crashes of the current window.
type crashes struct {
	policy RestartPolicy
	times  []time.Time
}

// next records a crash at now and says whether to restart, after which
// delay, and how many crashes the window holds.
func (c *crashes) next(now time.Time) (restart bool, delay time.Duration, n int) {
	kept := c.times[:0]
	for _, t := range c.times {
		if now.Sub(t) < c.policy.Interval {
			kept = append(kept, t)
		}
	}
	c.times = append(kept, now)
	n = len(c.times)
	if n > c.policy.Burst {
		return false, 0, n
	}
	delay = c.policy.Delay
	for range n - 1 {
		delay *= 2
		if delay >= c.policy.MaxDelay {
			return true, c.policy.MaxDelay, n
		}
	}
	return true, delay, n
}
