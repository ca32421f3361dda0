package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// Reopener closes s and opens a store over the same data again (a TAM
// restart).
type Reopener func(t *testing.T, s store.Store) store.Store

// Reopen checks that everything a store acknowledged survives a restart:
// one record of each kind, changed by each method that changes records,
// reads back the same from the reopened store.
func Reopen(t *testing.T, open Opener, reopen Reopener) {
	t.Parallel()
	ctx := t.Context()
	s := open(t)

	author := store.Author{Name: "acme", Kind: store.TAAuthor, Key: []byte("k"), Prefixes: nil, Created: at(1)}
	env := envelope("ta v1", 1, "", at(2), cid("ta", "x"))
	payload := []byte("the payload")
	dev := fullDevice("01")
	sess := session("tok")
	done := updated(sess, env.Digest)
	done.State = store.Done
	open2 := session("tok-open")
	report := store.Report{Device: "01", Time: at(6), Success: true, Envelopes: [][]byte{env.Digest}, SUITReports: [][]byte{{0xa0}}}
	admin := principal("admin", store.RoleOperator)
	tok := token("t1", "admin", 1)
	ls := store.LoginSession{Hash: []byte("cookie"), Principal: "admin", CSRF: []byte("csrf"), Expires: at(time.Hour)}
	gone := store.LoginSession{Hash: []byte("logged out"), Principal: "admin"}
	audit := entry(1)
	sent := store.Delivery{Rollout: "ro", Device: "01", Wave: 0, State: store.DeliverySent, Token: []byte("tok"), Sends: 1, Updated: at(6)}

	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"add author", func() error { return s.AddAuthor(ctx, author) }},
		{"put envelope", func() error { return s.PutEnvelope(ctx, env) }},
		{"put payload", func() error { return s.PutPayload(ctx, sum(payload), payload) }},
		{"add device", func() error { return s.AddDevice(ctx, device("01")) }},
		{"record tcs", func() error { return s.RecordTCs(ctx, "01", dev.TCs, dev.LastSeen) }},
		{"record attestation", func() error { return s.RecordAttestation(ctx, "01", dev.Attestation) }},
		{"record error", func() error { return s.RecordError(ctx, "01", dev.LastError) }},
		{"create session", func() error { return s.CreateSession(ctx, sess) }},
		{"create open session", func() error { return s.CreateSession(ctx, open2) }},
		{"advance session", func() error { return s.AdvanceSession(ctx, done, store.QuerySent, at(1)) }},
		{"add report", func() error { return s.AddReport(ctx, report) }},
		{"add principal", func() error { return s.AddPrincipal(ctx, principal("admin", store.RoleOperator)) }},
		{"set password", func() error { return s.SetPassword(ctx, "admin", []byte("hash")) }},
		{"add token", func() error { return s.AddToken(ctx, tok) }},
		{"revoke token", func() error { return s.RevokeToken(ctx, "t1", at(7)) }},
		{"add login session", func() error { return s.AddLoginSession(ctx, ls) }},
		{"add login session to end", func() error { return s.AddLoginSession(ctx, gone) }},
		{"end login session", func() error { return s.DeleteLoginSession(ctx, gone.Hash) }},
		{"append audit", func() (err error) { audit.Seq, err = s.AppendAudit(ctx, audit); return err }},
		// The fleet: a rollout in its second wave, one delivery sent, paused.
		{"add second device", func() error { return s.AddDevice(ctx, device("02")) }},
		{"set tags", func() error { return s.SetTags(ctx, "01", []string{"lab", "eu"}) }},
		{"add group", func() error {
			return s.AddGroup(ctx, store.Group{Name: "lab", Selector: store.Selector{Tag: "lab"}, Created: at(3)})
		}},
		{"add release", func() error {
			return s.AddRelease(ctx, store.Release{Name: "r1", Envelopes: [][]byte{env.Digest}, Created: at(3)})
		}},
		{"create rollout", func() error {
			return s.CreateRollout(ctx, store.Rollout{ID: "ro", Group: "lab", Release: "r1", Waves: []int{1, 1}, SuccessThreshold: 80,
				ErrorThreshold: 20, State: store.RolloutRunning, Created: at(4), Updated: at(4)}, []string{"01", "02"})
		}},
		{"advance wave", func() error { return s.AdvanceWave(ctx, "ro", 0, at(5)) }},
		{"send delivery", func() error { return s.MoveDelivery(ctx, sent, store.DeliveryPending, nil) }},
		{"pause rollout", func() error {
			return s.SetRolloutState(ctx, "ro", store.RolloutRunning, store.RolloutPaused, "operator", at(7))
		}},
	} {
		wantErr(t, step.name, step.do(), nil)
	}
	// What the fleet methods acknowledged, as the store reads it back now.
	fleet := []struct {
		name string
		get  func(context.Context) (any, error)
	}{
		{"tags", func(ctx context.Context) (any, error) { return s.Tags(ctx, "01") }},
		{"group", func(ctx context.Context) (any, error) { return s.Group(ctx, "lab") }},
		{"release", func(ctx context.Context) (any, error) { return s.Release(ctx, "r1") }},
		{"rollout", func(ctx context.Context) (any, error) { return s.Rollout(ctx, "ro") }},
		{"deliveries", func(ctx context.Context) (any, error) { return s.Deliveries(ctx, "ro") }},
		{"progress", func(ctx context.Context) (any, error) { return s.Progress(ctx, "ro") }},
	}
	before := make([]any, len(fleet))
	for i, f := range fleet {
		v, err := f.get(ctx)
		wantErr(t, f.name, err, nil)
		before[i] = v
	}
	if r := before[3].(store.Rollout); r.Wave != 1 || r.State != store.RolloutPaused {
		t.Fatalf("rollout before reopening: %+v", r)
	}

	s = reopen(t, s)

	dev.ID, dev.AgentKey, dev.Name, dev.Endorsement, dev.Reference, dev.AgreementKey = "01", device("01").AgentKey, "", nil, nil, nil
	admin.PasswordHash = []byte("hash")
	tok.Revoked = at(7)
	checks := []struct {
		name string
		get  func(context.Context) (any, error)
		want any
	}{
		{"author", func(ctx context.Context) (any, error) { return s.Author(ctx, "acme") }, author},
		{"envelope", func(ctx context.Context) (any, error) { return s.Envelope(ctx, env.Digest) }, env},
		{"latest", func(ctx context.Context) (any, error) { return s.LatestFor(ctx, "01") }, []store.Envelope{env}},
		{"payload", func(ctx context.Context) (any, error) { return s.Payload(ctx, sum(payload)) }, payload},
		{"device", func(ctx context.Context) (any, error) { return s.Device(ctx, "01") }, dev},
		{"done session", func(ctx context.Context) (any, error) { return s.Session(ctx, sess.Token) }, done},
		{"open session", func(ctx context.Context) (any, error) { return s.Session(ctx, open2.Token) }, open2},
		{"reports", func(ctx context.Context) (any, error) { return s.Reports(ctx, "01", 10) }, []store.Report{report}},
		{"principal", func(ctx context.Context) (any, error) { return s.Principal(ctx, "admin") }, admin},
		{"token", func(ctx context.Context) (any, error) { return s.TokenByHash(ctx, tok.Hash) }, tok},
		{"login session", func(ctx context.Context) (any, error) { return s.LoginSession(ctx, ls.Hash) }, ls},
	}
	for _, c := range checks {
		got, err := c.get(ctx)
		wantErr(t, c.name, err, nil)
		same(t, c.name+" after reopening", got, c.want)
	}
	_, err := s.LoginSession(ctx, gone.Hash)
	wantErr(t, "ended login session after reopening", err, store.ErrNotFound)
	// The spent session stays spent, the open one still advances once.
	wantErr(t, "replay after reopening", s.AdvanceSession(ctx, done, store.UpdateSent, at(1)), store.ErrConflict)
	wantErr(t, "advance after reopening", s.AdvanceSession(ctx, updated(open2), store.QuerySent, at(1)), nil)
	wantErr(t, "revoke again after reopening", s.RevokeToken(ctx, "t1", at(8)), store.ErrConflict)
	for i, f := range fleet {
		got, err := f.get(ctx)
		wantErr(t, f.name, err, nil)
		same(t, f.name+" after reopening", got, before[i])
	}
	// Nothing the fleet did happens twice after a restart.
	wantErr(t, "wave again after reopening", s.AdvanceWave(ctx, "ro", 0, at(8)), store.ErrConflict)
	wantErr(t, "send again after reopening", s.MoveDelivery(ctx, sent, store.DeliveryPending, nil), store.ErrConflict)
	wantErr(t, "pause again after reopening", s.SetRolloutState(ctx, "ro", store.RolloutRunning, store.RolloutPaused, "again", at(8)), store.ErrConflict)
	// The trail goes on after its last entry.
	es, err := s.ListAudit(ctx, 0, 10)
	wantErr(t, "audit", err, nil)
	same(t, "audit after reopening", es, []store.AuditEntry{audit})
	seq, err := s.AppendAudit(ctx, entry(2))
	wantErr(t, "append after reopening", err, nil)
	if seq <= audit.Seq {
		t.Fatalf("seq %d after reopening, not past %d", seq, audit.Seq)
	}
}
