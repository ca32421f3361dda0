package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// endSession creates session token for device, moves it to UpdateSent
// carrying envs when envs is not nil, and ends it at now with end; it
// returns the log entry the end makes.
func endSession(ctx context.Context, t *testing.T, s store.Store, token, device string, envs [][]byte, now time.Time, end store.SessionEnd) store.SessionRecord {
	t.Helper()
	sess := session(token)
	sess.Expires = now.Add(time.Minute)
	wantErr(t, "create "+token, s.CreateSession(ctx, sess), nil)
	from := store.QuerySent
	if envs != nil {
		upd := sess
		upd.State, upd.Device, upd.Envelopes = store.UpdateSent, device, envs
		wantErr(t, "update "+token, s.AdvanceSession(ctx, upd, store.QuerySent, now), nil)
		sess, from = upd, store.UpdateSent
	}
	done := sess
	done.State, done.Device = store.Done, device
	wantErr(t, "end "+token, s.RecordAnswer(ctx, store.Answer{Session: done, From: from, Now: now, End: &end}), nil)
	return end.Record(done, now)
}

func testSessionLog(t *testing.T, open Opener) {
	t.Run("Outcomes", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "d000", "d001")
		envs := [][]byte{sum([]byte("ta")), sum([]byte("pers"))}
		logged := []store.SessionRecord{ // oldest first
			endSession(ctx, t, s, "s1", "d000", nil, at(1*time.Second), store.SessionEnd{Outcome: store.OutcomeUpToDate}),
			endSession(ctx, t, s, "s2", "d000", nil, at(2*time.Second), store.SessionEnd{Outcome: store.OutcomeRefused, Detail: "contraindicated: a stale nonce"}),
			endSession(ctx, t, s, "s3", "d000", envs, at(3*time.Second), store.SessionEnd{Outcome: store.OutcomeSuccess}),
			endSession(ctx, t, s, "s4", "d000", envs[:1], at(4*time.Second), store.SessionEnd{Outcome: store.OutcomeError, Detail: "ERR_MANIFEST_PROCESSING_FAILED: no space"}),
			endSession(ctx, t, s, "s5", "d000", nil, at(4*time.Second), store.SessionEnd{Outcome: store.OutcomeUpToDate, Detail: "same time, logged later"}),
		}
		other := endSession(ctx, t, s, "o1", "d001", nil, at(9*time.Second), store.SessionEnd{Outcome: store.OutcomeUpToDate})
		if logged[0].Started.IsZero() || logged[2].Numbering != 1 || len(logged[2].Envelopes) != 2 {
			t.Fatalf("entry made of the session: %+v", logged[2])
		}
		newest := []store.SessionRecord{logged[4], logged[3], logged[2], logged[1], logged[0]}
		for _, limit := range []int{1, 3, 5, store.MaxPage + 1} {
			got, err := s.SessionLog(ctx, "d000", limit)
			wantErr(t, "log", err, nil)
			same(t, fmt.Sprint("log, limit ", limit), got, newest[:min(limit, len(newest))])
		}
		got, err := s.SessionLog(ctx, "d001", 10)
		wantErr(t, "other log", err, nil)
		same(t, "other log", got, []store.SessionRecord{other})

		// An answer refused (a replay) logs nothing.
		done := session("s1")
		done.State, done.Device = store.Done, "d000"
		end := store.SessionEnd{Outcome: store.OutcomeSuccess}
		wantErr(t, "replay", s.RecordAnswer(ctx, store.Answer{Session: done, From: store.QuerySent, Now: at(5 * time.Second), End: &end}), store.ErrConflict)
		got, err = s.SessionLog(ctx, "d000", 10)
		wantErr(t, "log", err, nil)
		same(t, "log after a replay", got, newest)
	})
	t.Run("Expired", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "d000")
		env := [][]byte{sum([]byte("ta"))}
		waiting := func(token, device string, expires time.Time) store.Session {
			sess := session(token)
			wantErr(t, "create "+token, s.CreateSession(ctx, sess), nil)
			upd := sess
			upd.State, upd.Device, upd.Envelopes, upd.Expires = store.UpdateSent, device, env, expires
			wantErr(t, "update "+token, s.AdvanceSession(ctx, upd, store.QuerySent, at(1)), nil)
			return upd
		}
		e1 := waiting("e1", "d000", at(time.Minute))
		wantErr(t, "create e2", s.CreateSession(ctx, session("e2")), nil) // no device yet
		answered := endSession(ctx, t, s, "e3", "d000", env, at(10*time.Second), store.SessionEnd{Outcome: store.OutcomeSuccess})
		waiting("ghost", "not-registered", at(time.Minute))
		e4 := waiting("e4", "d000", at(2*time.Minute))

		n, err := s.DeleteExpiredSessions(ctx, at(time.Minute))
		wantErr(t, "delete expired", err, nil)
		if n != 3 {
			t.Fatalf("%d sessions deleted, want e1, e2 and ghost's", n)
		}
		expired := func(sess store.Session) store.SessionRecord {
			return store.SessionRecord{Device: sess.Device, Started: sess.Created, Ended: sess.Expires, Numbering: sess.Numbering,
				Outcome: store.OutcomeExpired, Detail: "its Update got no answer", Envelopes: sess.Envelopes}
		}
		got, err := s.SessionLog(ctx, "d000", 10)
		wantErr(t, "log", err, nil)
		same(t, "log after the first sweep", got, []store.SessionRecord{expired(e1), answered})
		n, err = s.DeleteExpiredSessions(ctx, at(2*time.Minute))
		wantErr(t, "delete expired", err, nil)
		if n != 2 {
			t.Fatalf("%d sessions deleted, want e3 (logged when it ended, not again) and e4", n)
		}
		got, err = s.SessionLog(ctx, "d000", 10)
		wantErr(t, "log", err, nil)
		same(t, "log after the second sweep", got, []store.SessionRecord{expired(e4), expired(e1), answered})
	})
	t.Run("Bounded", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "d000", "d001")
		other := endSession(ctx, t, s, "other", "d001", nil, at(0), store.SessionEnd{Outcome: store.OutcomeUpToDate})
		var logged []store.SessionRecord
		for i := range store.MaxSessionLog + 3 {
			logged = append(logged, endSession(ctx, t, s, fmt.Sprint("s", i), "d000", nil, at(time.Duration(i+1)*time.Second),
				store.SessionEnd{Outcome: store.OutcomeUpToDate, Detail: fmt.Sprint(i)}))
		}
		got, err := s.SessionLog(ctx, "d000", store.MaxPage)
		wantErr(t, "log", err, nil)
		if len(got) != store.MaxSessionLog {
			t.Fatalf("%d sessions kept, want MaxSessionLog = %d", len(got), store.MaxSessionLog)
		}
		same(t, "newest kept", got[0], logged[len(logged)-1])
		same(t, "oldest kept", got[len(got)-1], logged[3])
		gotOther, err := s.SessionLog(ctx, "d001", store.MaxPage)
		wantErr(t, "other log", err, nil)
		same(t, "another device's log", gotOther, []store.SessionRecord{other})
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "d000")
		sess := session("tok")
		wantErr(t, "create", s.CreateSession(ctx, sess), nil)
		long := string(make([]byte, store.MaxText+1))
		for _, tc := range []struct {
			name  string
			state store.SessionState
			end   store.SessionEnd
		}{
			{"a session that goes on", store.UpdateSent, store.SessionEnd{Outcome: store.OutcomeSuccess}},
			{"no outcome", store.Done, store.SessionEnd{}},
			{"unknown outcome", store.Done, store.SessionEnd{Outcome: "half done"}},
			{"detail too long", store.Done, store.SessionEnd{Outcome: store.OutcomeError, Detail: long}},
		} {
			next := sess
			next.State, next.Device = tc.state, "d000"
			wantErr(t, tc.name, s.RecordAnswer(ctx, store.Answer{Session: next, From: store.QuerySent, Now: at(1), End: &tc.end}), store.ErrInvalid)
		}
		for _, limit := range []int{0, -1} {
			_, err := s.SessionLog(ctx, "d000", limit)
			wantErr(t, fmt.Sprint("limit ", limit), err, store.ErrInvalid)
		}
		got, err := s.Session(ctx, sess.Token)
		wantErr(t, "session", err, nil)
		same(t, "session after refused ends", got, sess)
		log, err := s.SessionLog(ctx, "d000", 10)
		wantErr(t, "log", err, nil)
		same(t, "log after refused ends", len(log), 0)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.SessionLog(ctx, "nobody", 10)
		wantErr(t, "log", err, store.ErrNotFound)
		// The session would end; its device has no log: nothing changes.
		sess := session("tok")
		wantErr(t, "create", s.CreateSession(ctx, sess), nil)
		done := sess
		done.State, done.Device = store.Done, "nobody"
		end := store.SessionEnd{Outcome: store.OutcomeUpToDate}
		wantErr(t, "end", s.RecordAnswer(ctx, store.Answer{Session: done, From: store.QuerySent, Now: at(1), End: &end}), store.ErrNotFound)
		got, err := s.Session(ctx, sess.Token)
		wantErr(t, "session", err, nil)
		same(t, "session after the refused end", got, sess)
	})
}
