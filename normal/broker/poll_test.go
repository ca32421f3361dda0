package broker_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/teeup/teeup/normal/broker"
)

const deviceID = "e9d2f5fab0c3a1b4c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"

// runSessions runs the broker until it has run n sessions, and returns
// their errors.
func runSessions(t *testing.T, b *broker.Broker, n int) []error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	done := make(chan error, 1)
	go func() {
		done <- b.Run(ctx, func(_ *broker.Outcome, err error) error {
			errs = append(errs, err)
			if len(errs) == n {
				cancel()
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not run the sessions")
	}
	return errs
}

// TestRunLongPoll: a session at start; then the long poll, repeated while
// the TAM answers 204 or fails, starts the next session at once when the
// TAM answers 200, long before the interval.
func TestRunLongPoll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		polls     []answer
		wantPolls int
		wantWaits int // backoffs between polls: a 204 at once (the fixed clock says so) or a failure
	}{
		{"200 at once", []answer{{status: http.StatusOK}}, 1, 0},
		{"204 twice, then 200", []answer{over, over, {status: http.StatusOK}}, 3, 2},
		{"503 and 404, then 200", []answer{{status: 503}, {status: 404}, {status: http.StatusOK}}, 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, map[string]answer{"": over}, nil)
			r.cfg.DeviceID = deviceID
			r.cfg.PollInterval = time.Hour
			r.tam.queuePolls(tc.polls...)
			for _, err := range runSessions(t, r.broker(t), 2) {
				if err != nil {
					t.Fatalf("session: %v", err)
				}
			}
			polls := r.tam.seen("/tam/poll")
			if len(polls) != tc.wantPolls {
				t.Fatalf("%d polls, want %d", len(polls), tc.wantPolls)
			}
			q, _ := url.ParseQuery(polls[0].query)
			if q.Get("device") != deviceID || q.Get("wait") != "30s" {
				t.Fatalf("poll query %q", polls[0].query)
			}
			if got := len(r.tam.seen("/tam")); got != 2 {
				t.Fatalf("%d sessions opened, want 2", got)
			}
			if got := len(r.sleeps.all()); got != tc.wantWaits {
				t.Fatalf("waits %v, want %d", r.sleeps.all(), tc.wantWaits)
			}
		})
	}
}

// TestRunEagerTAM: a TAM that asks for a session at once after every
// session does not make the device loop: from the second such ask in a
// row, each session waits a growing backoff first.
func TestRunEagerTAM(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": over}, nil)
	r.cfg.DeviceID = deviceID
	r.cfg.PollInterval = time.Hour
	for range 10 {
		r.tam.queuePolls(answer{status: http.StatusOK})
	}
	runSessions(t, r.broker(t), 4)
	s := r.sleeps.all()
	if len(s) != 2 || s[0] < 250*time.Millisecond || s[0] > 500*time.Millisecond || s[1] < 500*time.Millisecond || s[1] > time.Second {
		t.Fatalf("waits %v, want two growing backoffs", s)
	}
}

// TestRunInterval: without a device ID the broker does not long-poll: it
// waits the interval between sessions, and a failed session does not stop
// it.
func TestRunInterval(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": over}, nil)
	r.cfg.PollInterval = 42 * time.Minute
	r.tam.fail(answer{status: http.StatusForbidden})
	errs := runSessions(t, r.broker(t), 2)
	if !errors.Is(errs[0], broker.ErrRefused) || errs[1] != nil {
		t.Fatalf("sessions: %v", errs)
	}
	if got := r.sleeps.all(); len(got) != 1 || got[0] != 42*time.Minute {
		t.Fatalf("waits %v, want the interval", got)
	}
	if len(r.tam.seen("/tam/poll")) != 0 {
		t.Fatal("polled without a device ID")
	}
}

// TestRunStopsOnDone: Run returns done's error (the world reboots).
func TestRunStopsOnDone(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": over}, nil)
	reboot := errors.New("reboot")
	if err := r.broker(t).Run(context.Background(), func(*broker.Outcome, error) error { return reboot }); !errors.Is(err, reboot) {
		t.Fatalf("Run = %v", err)
	}
}
