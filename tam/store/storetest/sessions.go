package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// session is a session that sent its QueryRequest at t0 and expires a
// minute later.
func session(token string) store.Session {
	return store.Session{
		Token: []byte(token), State: store.QuerySent, Challenge: []byte("challenge-" + token),
		Numbering: 1, Created: at(0), Expires: at(time.Minute),
	}
}

// updated is s after its QueryResponse: the Update carries envs.
func updated(s store.Session, envs ...[]byte) store.Session {
	s.State, s.Device, s.Envelopes = store.UpdateSent, "dev-1", envs
	return s
}

func testSessions(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		full := updated(session("tok-full"), sum([]byte("e1")), sum([]byte("e2")))
		full.Numbering = 255
		bare := store.Session{Token: []byte{0}, State: store.QuerySent}
		empty := session("tok-empty")
		empty.Challenge, empty.Envelopes = []byte{}, [][]byte{}
		for _, sess := range []store.Session{full, bare, empty} {
			wantErr(t, "create", s.CreateSession(ctx, sess), nil)
			got, err := s.Session(ctx, sess.Token)
			wantErr(t, "session", err, nil)
			same(t, fmt.Sprintf("session %q", sess.Token), got, sess)
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "create", s.CreateSession(ctx, session("tok")), nil)
		again := session("tok")
		again.Challenge = []byte("other")
		wantErr(t, "create again", s.CreateSession(ctx, again), store.ErrExists)
		got, err := s.Session(ctx, []byte("tok"))
		wantErr(t, "session", err, nil)
		same(t, "after refused create", got, session("tok"))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Session(ctx, []byte("absent"))
		wantErr(t, "session", err, store.ErrNotFound)
		wantErr(t, "advance", s.AdvanceSession(ctx, updated(session("absent")), store.QuerySent, at(1)), store.ErrNotFound)
		_, err = s.Session(ctx, []byte("absent"))
		wantErr(t, "session after advance", err, store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		for _, tc := range []struct {
			name string
			sess store.Session
		}{
			{"no token", store.Session{State: store.QuerySent}},
			{"token too long", store.Session{Token: make([]byte, store.MaxKey+1), State: store.QuerySent}},
			{"unknown state", store.Session{Token: []byte("t"), State: "half-done"}},
			{"envelope digest short", store.Session{Token: []byte("t"), State: store.QuerySent, Envelopes: [][]byte{{1}}}},
			{"challenge too long", store.Session{Token: []byte("t"), State: store.QuerySent, Challenge: make([]byte, store.MaxKey+1)}},
		} {
			wantErr(t, tc.name, s.CreateSession(ctx, tc.sess), store.ErrInvalid)
		}
		_, err := s.Session(ctx, []byte("t"))
		wantErr(t, "refused session stored", err, store.ErrNotFound)
	})
	t.Run("Advance", testAdvance(open))
	t.Run("AdvanceConcurrent", func(t *testing.T) {
		// Replicas or retries racing on one QueryResponse: one wins.
		ctx, s := fresh(t, open)
		wantErr(t, "create", s.CreateSession(ctx, session("tok")), nil)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := updated(session("tok"), sum(fmt.Appendf(nil, "envelope %d", i)))
				errs[i] = s.AdvanceSession(ctx, next, store.QuerySent, at(time.Second))
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("advances %d and %d both won", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("advance %d: %v, want ErrConflict", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("no advance of %d won", n)
		}
		got, err := s.Session(ctx, []byte("tok"))
		wantErr(t, "session", err, nil)
		same(t, "the winner's session", got, updated(session("tok"), sum(fmt.Appendf(nil, "envelope %d", winner))))
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		ctx, s := fresh(t, open)
		now := at(time.Minute)
		for i, exp := range []time.Duration{-time.Second, 0, time.Nanosecond, time.Hour} {
			sess := session(fmt.Sprint("tok-", i))
			sess.Expires = now.Add(exp)
			wantErr(t, "create", s.CreateSession(ctx, sess), nil)
		}
		n, err := s.DeleteExpiredSessions(ctx, now)
		wantErr(t, "delete", err, nil)
		if n != 2 {
			t.Fatalf("deleted %d sessions, want 2 (expired before and at now)", n)
		}
		for i, want := range []error{store.ErrNotFound, store.ErrNotFound, nil, nil} {
			_, err := s.Session(ctx, []byte(fmt.Sprint("tok-", i)))
			wantErr(t, fmt.Sprint("session ", i), err, want)
		}
		n, err = s.DeleteExpiredSessions(ctx, now)
		wantErr(t, "delete again", err, nil)
		if n != 0 {
			t.Fatalf("deleted %d sessions again", n)
		}
	})
}

// testAdvance drives one session through its states, with the replays and
// late answers that must fail on the way.
func testAdvance(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		start := session("tok")
		wantErr(t, "create", s.CreateSession(ctx, start), nil)
		upd := updated(start, sum([]byte("ta")))
		upd.Expires = at(2 * time.Minute) // the Update gets a new deadline
		done := upd
		done.State = store.Done
		late := session("late")
		wantErr(t, "create", s.CreateSession(ctx, late), nil)

		stored := start
		for _, step := range []struct {
			name string
			next store.Session
			from store.SessionState
			now  time.Time
			want error
		}{
			{"backwards", store.Session{Token: start.Token, State: store.QuerySent}, store.QuerySent, at(1), store.ErrInvalid},
			{"unknown from", upd, "sent", at(1), store.ErrInvalid},
			{"from the wrong state", done, store.UpdateSent, at(1), store.ErrConflict},
			{"query response", upd, store.QuerySent, at(time.Minute - 1), nil},
			{"replayed query response", upd, store.QuerySent, at(time.Minute - 1), store.ErrConflict},
			{"replay as a direct end", done, store.QuerySent, at(time.Minute - 1), store.ErrConflict},
			{"success", done, store.UpdateSent, at(2*time.Minute - 1), nil},
			{"replayed success", done, store.UpdateSent, at(2*time.Minute - 1), store.ErrConflict},
			{"done never moves", done, store.Done, at(2*time.Minute - 1), store.ErrInvalid},
		} {
			err := s.AdvanceSession(ctx, step.next, step.from, step.now)
			wantErr(t, step.name, err, step.want)
			if err == nil {
				stored = step.next
			}
			got, err := s.Session(ctx, start.Token)
			wantErr(t, "session", err, nil)
			same(t, "after "+step.name, got, stored)
		}

		// An expired session cannot advance: at its Expires and after.
		for _, now := range []time.Time{late.Expires, late.Expires.Add(time.Hour)} {
			wantErr(t, "advance expired", s.AdvanceSession(ctx, updated(late), store.QuerySent, now), store.ErrConflict)
		}
		got, err := s.Session(ctx, late.Token)
		wantErr(t, "session", err, nil)
		same(t, "expired session", got, late)
		wantErr(t, "advance just in time", s.AdvanceSession(ctx, updated(late), store.QuerySent, late.Expires.Add(-time.Nanosecond)), nil)
	}
}
