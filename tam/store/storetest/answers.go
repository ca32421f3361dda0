package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// answerFixture is a rollout store (devices d000 and d001, rollout "ro")
// where d000's delivery was sent in the Update of session "tok", which
// waits for its answer until at(2m).
func answerFixture(t *testing.T, open Opener) (context.Context, store.Store, store.Session, store.Delivery) {
	t.Helper()
	ctx, s, _, _ := rolloutFixture(t, open, 1, 1)
	sess := session("tok")
	wantErr(t, "create session", s.CreateSession(ctx, sess), nil)
	upd := updated(sess, sum([]byte("release envelope")))
	upd.Device, upd.Expires = "d000", at(2*time.Minute)
	wantErr(t, "query response", s.AdvanceSession(ctx, upd, store.QuerySent, at(1)), nil)
	sent := store.Delivery{Rollout: "ro", Device: "d000", State: store.DeliverySent, Token: upd.Token, Sends: 1, Updated: at(1)}
	wantErr(t, "send", s.MoveDelivery(ctx, sent, store.DeliveryPending, nil), nil)
	return ctx, s, upd, sent
}

// success is the whole answer of d000's Success to sess, which carried
// sent's release.
func success(sess store.Session, sent store.Delivery) store.Answer {
	done := sess
	done.State = store.Done
	cleared := ""
	installed := sent
	installed.State, installed.Detail, installed.Updated = store.DeliverySucceeded, "installed", at(time.Minute)
	return store.Answer{
		Session: done, From: store.UpdateSent, Now: at(time.Minute),
		LastError: &cleared,
		Report: &store.Report{Device: "d000", Time: at(time.Minute), Success: true, Envelopes: sess.Envelopes,
			SUITReports: [][]byte{{0xa0}}},
		Deliveries: []store.DeliveryMove{{Next: installed, From: store.DeliverySent, Token: sess.Token}},
	}
}

// answerState is what RecordAnswer may change.
type answerState struct {
	Session  store.Session
	Device   store.Device
	Reports  []store.Report
	Delivery store.Delivery
}

func stateOf(ctx context.Context, t *testing.T, s store.Store, token []byte) answerState {
	t.Helper()
	var st answerState
	var err error
	st.Session, err = s.Session(ctx, token)
	wantErr(t, "session", err, nil)
	st.Device, err = s.Device(ctx, "d000")
	wantErr(t, "device", err, nil)
	st.Reports, err = s.Reports(ctx, "d000", store.MaxPage)
	wantErr(t, "reports", err, nil)
	st.Delivery, err = s.Delivery(ctx, "ro", "d000")
	wantErr(t, "delivery", err, nil)
	return st
}

func testAnswers(t *testing.T, open Opener) {
	t.Run("Whole", func(t *testing.T) {
		ctx, s, sess, sent := answerFixture(t, open)
		before := stateOf(ctx, t, s, sess.Token)
		a := success(sess, sent)
		a.RecordTCs, a.TCs = true, []store.InstalledTC{{Component: cid("ta", "x"), SequenceNumber: 1}}
		a.Attestation = &store.Attestation{Time: at(time.Minute), Status: "affirming", EAR: []byte("ey.ear"), Reason: "ok"}
		wantErr(t, "record", s.RecordAnswer(ctx, a), nil)
		want := before
		want.Session = a.Session
		want.Device.TCs, want.Device.LastSeen, want.Device.Attestation = a.TCs, a.Now, *a.Attestation
		want.Reports = []store.Report{*a.Report}
		want.Delivery = a.Deliveries[0].Next
		same(t, "after the answer", stateOf(ctx, t, s, sess.Token), want)

		// The retry of an answer recorded is a replay: it changes nothing.
		wantErr(t, "replay", s.RecordAnswer(ctx, a), store.ErrConflict)
		same(t, "after the replay", stateOf(ctx, t, s, sess.Token), want)
	})
	t.Run("QueryResponse", func(t *testing.T) {
		// A QueryResponse that ends its session: tc-list and appraisal,
		// no report, the last error left as it is.
		ctx, s, _, _ := rolloutFixture(t, open, 1)
		wantErr(t, "error", s.RecordError(ctx, "d000", "held back"), nil)
		sess := session("q")
		wantErr(t, "create session", s.CreateSession(ctx, sess), nil)
		done := sess
		done.State, done.Device = store.Done, "d000"
		a := store.Answer{Session: done, From: store.QuerySent, Now: at(time.Second), RecordTCs: true,
			TCs:         []store.InstalledTC{{Component: cid("ta", "x"), SequenceNumber: 2}},
			Attestation: &store.Attestation{Time: at(time.Second), Status: "contraindicated", Reason: "bad quote"}}
		wantErr(t, "record", s.RecordAnswer(ctx, a), nil)
		got := stateOf(ctx, t, s, sess.Token)
		same(t, "session", got.Session, done)
		same(t, "attestation", got.Device.Attestation, *a.Attestation)
		same(t, "tc-list", got.Device.TCs, a.TCs)
		same(t, "last seen", got.Device.LastSeen, a.Now)
		same(t, "last error", got.Device.LastError, "held back")
		same(t, "reports", len(got.Reports), 0)
		// The fleet's counts follow a tc-list and an appraisal recorded
		// with an answer as they follow RecordTCs and RecordAttestation.
		sum, err := s.FleetSummary(ctx)
		wantErr(t, "fleet summary", err, nil)
		same(t, "versions", sum.Versions, []store.VersionCount{{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1}})
		same(t, "by attestation", sum.ByAttestation, []store.Count{{Label: "contraindicated", N: 1}})
	})
	t.Run("NothingOrAll", func(t *testing.T) {
		// Each answer fails after or before the session's compare-and-set
		// would pass; none leaves any of its parts behind.
		ctx, s, sess, sent := answerFixture(t, open)
		before := stateOf(ctx, t, s, sess.Token)
		ghost := success(sess, sent)
		ghost.Session.Device, ghost.Report.Device, ghost.Deliveries = "ghost", "ghost", nil
		wrongState := success(sess, sent)
		wrongState.From = store.QuerySent
		for _, tc := range []struct {
			name string
			a    store.Answer
			want error
		}{
			{"expired", func() store.Answer { a := success(sess, sent); a.Now = sess.Expires; return a }(), store.ErrConflict},
			{"from the wrong state", wrongState, store.ErrConflict},
			{"unknown token", func() store.Answer { a := success(sess, sent); a.Session.Token = []byte("absent"); return a }(), store.ErrNotFound},
			// The session would advance; the device's record is missing.
			{"unregistered device", ghost, store.ErrNotFound},
		} {
			wantErr(t, tc.name, s.RecordAnswer(ctx, tc.a), tc.want)
			same(t, "after "+tc.name, stateOf(ctx, t, s, sess.Token), before)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s, sess, sent := answerFixture(t, open)
		before := stateOf(ctx, t, s, sess.Token)
		long := string(make([]byte, store.MaxText+1))
		for _, tc := range []struct {
			name   string
			change func(*store.Answer)
		}{
			{"no device", func(a *store.Answer) { a.Session.Device = "" }},
			{"backwards", func(a *store.Answer) { a.Session.State = store.QuerySent }},
			{"no time", func(a *store.Answer) { a.Now = time.Time{} }},
			{"report of another device", func(a *store.Answer) { a.Report.Device = "d001" }},
			{"report too long", func(a *store.Answer) { a.Report.ErrMsg = long }},
			{"last error too long", func(a *store.Answer) { a.LastError = &long }},
			{"bad tc-list", func(a *store.Answer) {
				a.RecordTCs, a.TCs = true, []store.InstalledTC{{Component: nil}}
			}},
			{"bad attestation", func(a *store.Answer) {
				a.Attestation = &store.Attestation{Status: "affirming", EAR: make([]byte, store.MaxBlob+1)}
			}},
			{"delivery of another device", func(a *store.Answer) { a.Deliveries[0].Next.Device = "d001" }},
			{"delivery moved back", func(a *store.Answer) { a.Deliveries[0].Next.State = store.DeliveryPending }},
		} {
			a := success(sess, sent)
			tc.change(&a)
			wantErr(t, tc.name, s.RecordAnswer(ctx, a), store.ErrInvalid)
			same(t, "after "+tc.name, stateOf(ctx, t, s, sess.Token), before)
		}
	})
	t.Run("DeliveryMovedFirst", func(t *testing.T) {
		// Another session's Offer failed the delivery first: the answer
		// is recorded, the delivery keeps the state it was moved to.
		ctx, s, sess, sent := answerFixture(t, open)
		failed := sent
		failed.State, failed.Detail, failed.Updated = store.DeliveryFailed, "too many sends", at(30*time.Second)
		wantErr(t, "fail first", s.MoveDelivery(ctx, failed, store.DeliverySent, sess.Token), nil)
		a := success(sess, sent)
		wantErr(t, "record", s.RecordAnswer(ctx, a), nil)
		got := stateOf(ctx, t, s, sess.Token)
		same(t, "session", got.Session, a.Session)
		same(t, "reports", got.Reports, []store.Report{*a.Report})
		same(t, "delivery", got.Delivery, failed)
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Replicas or retries racing with one answer: one records it, once.
		ctx, s, sess, sent := answerFixture(t, open)
		const racers = 8
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() { errs[i] = s.RecordAnswer(ctx, success(sess, sent)) })
		}
		wg.Wait()
		oneWinner(t, errs)
		got := stateOf(ctx, t, s, sess.Token)
		same(t, fmt.Sprint("reports after ", racers, " racers"), got.Reports, []store.Report{*success(sess, sent).Report})
	})
}
