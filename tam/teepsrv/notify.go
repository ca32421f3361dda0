package teepsrv

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errTooManyPollers: MaxPollers long polls wait already.
var errTooManyPollers = errors.New("teepsrv: too many long polls waiting")

// errClosed: the server is shutting down.
var errClosed = errors.New("teepsrv: closed")

// notifier is what the long poll waits on: every Notify bumps an epoch
// and records it for the device it concerns (or for all); a device has
// something new while the epoch of the last notice for it is past the
// epoch it last saw. A notice while the device polls nowhere is kept for
// its next poll, not lost.
type notifier struct {
	mu      sync.Mutex
	epoch   uint64
	all     uint64            // epoch of the last notice for every device
	devices map[string]uint64 // epoch of the last notice for one device
	seen    map[string]uint64 // the epoch each device last saw
	wake    chan struct{}     // closed (and replaced) at every notice
	waiting int
	closed  chan struct{}
}

// newNotifier is the notifier of a server that starts. The notices live
// in memory only, so it starts with one
// notice for every device: after a restart, each device's first long
// poll answers at once, and its session catches up with whatever was
// notified before the restart and not yet seen.
func newNotifier() *notifier {
	return &notifier{epoch: 1, all: 1, devices: map[string]uint64{}, seen: map[string]uint64{},
		wake: make(chan struct{}), closed: make(chan struct{})}
}

// notify records a notice for device, or for every device when it is
// empty, and wakes the waiting polls.
func (n *notifier) notify(device string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.epoch++
	if device == "" {
		n.all = n.epoch
	} else {
		n.devices[device] = n.epoch
	}
	close(n.wake)
	n.wake = make(chan struct{})
}

// pendingLocked reports whether device has a notice it has not seen.
func (n *notifier) pendingLocked(device string) bool {
	return max(n.all, n.devices[device]) > n.seen[device]
}

// mark records that device has seen every notice up to epoch (a session
// that began at epoch decided with everything notified before it).
func (n *notifier) mark(device string, epoch uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if epoch > n.seen[device] {
		n.seen[device] = epoch
	}
}

// current is the epoch now.
func (n *notifier) current() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.epoch
}

// wait waits up to d for a notice device has not seen; it reports
// whether one came (and marks it seen), false on timeout. It ends early
// with ctx's error, or errClosed when the server shuts down.
func (n *notifier) wait(ctx context.Context, device string, d time.Duration) (bool, error) {
	n.mu.Lock()
	if n.waiting >= MaxPollers {
		n.mu.Unlock()
		return false, errTooManyPollers
	}
	n.waiting++
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.waiting--
		n.mu.Unlock()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		// The check and the channel to wait on are taken under one lock,
		// so that a notice between them is not missed.
		n.mu.Lock()
		if n.pendingLocked(device) {
			n.seen[device] = n.epoch
			n.mu.Unlock()
			return true, nil
		}
		wake := n.wake
		n.mu.Unlock()
		select {
		case <-wake:
		case <-timer.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-n.closed:
			return false, errClosed
		}
	}
}

// close ends every wait, now and later.
func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.closed:
	default:
		close(n.closed)
	}
}
