package fetch

import (
	"context"
	"fmt"
	"io"
	"time"
)

// watchdog cancels an attempt when no byte has arrived for the stall
// timeout. It is paused while the sink runs: a slow flash write in the
// secure world is not a stalled network. A nil *watchdog does nothing.
type watchdog struct {
	t stopper
	d time.Duration
}

// watch starts the watchdog of one attempt, nil if it is turned off.
func (d *Downloader) watch(cancel context.CancelCauseFunc) *watchdog {
	if d.stall <= 0 {
		return nil
	}
	cause := fmt.Errorf("%w after %v", ErrStalled, d.stall)
	return &watchdog{t: d.afterFunc(d.stall, func() { cancel(cause) }), d: d.stall}
}

// kick restarts the wait: something arrived.
func (w *watchdog) kick() {
	if w != nil {
		w.t.Reset(w.d)
	}
}

func (w *watchdog) pause() {
	if w != nil {
		w.t.Stop()
	}
}

// watched kicks the watchdog whenever a read returns bytes.
type watched struct {
	r io.Reader
	w *watchdog
}

func (r *watched) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.kick()
	}
	return n, err
}
