package teepsrv_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// errInjected is the store fault faultStore injects.
var errInjected = errors.New("injected store fault")

// faultStore is a real store whose writes are counted once armed, and
// whose failAt-th write fails without writing: the state a TAM killed
// right before that write leaves (every write before it committed, none
// after). Every write method of store.Store goes through step.
type faultStore struct {
	store.Store
	mu     sync.Mutex
	armed  bool
	failAt int      // the write that fails, from 1; 0: none
	writes []string // the writes since armed, the failed one included
}

func (f *faultStore) arm(failAt int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.failAt, f.writes = true, failAt, nil
}

// disarm stops counting and returns the writes counted.
func (f *faultStore) disarm() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = false
	return f.writes
}

func (f *faultStore) step(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return nil
	}
	f.writes = append(f.writes, name)
	if len(f.writes) == f.failAt {
		return fmt.Errorf("%s: %w", name, errInjected)
	}
	return nil
}

// do runs write unless step fails.
func (f *faultStore) do(name string, write func() error) error {
	if err := f.step(name); err != nil {
		return err
	}
	return write()
}

func (f *faultStore) AddAuthor(ctx context.Context, a store.Author) error {
	return f.do("AddAuthor", func() error { return f.Store.AddAuthor(ctx, a) })
}

func (f *faultStore) PutEnvelope(ctx context.Context, e store.Envelope) error {
	return f.do("PutEnvelope", func() error { return f.Store.PutEnvelope(ctx, e) })
}

func (f *faultStore) PutPayload(ctx context.Context, digest, data []byte) error {
	return f.do("PutPayload", func() error { return f.Store.PutPayload(ctx, digest, data) })
}

func (f *faultStore) AddDevice(ctx context.Context, d store.Device) error {
	return f.do("AddDevice", func() error { return f.Store.AddDevice(ctx, d) })
}

func (f *faultStore) RecordTCs(ctx context.Context, id string, tcs []store.InstalledTC, seen time.Time) error {
	return f.do("RecordTCs", func() error { return f.Store.RecordTCs(ctx, id, tcs, seen) })
}

func (f *faultStore) RecordAttestation(ctx context.Context, id string, a store.Attestation) error {
	return f.do("RecordAttestation", func() error { return f.Store.RecordAttestation(ctx, id, a) })
}

func (f *faultStore) RecordError(ctx context.Context, id, msg string) error {
	return f.do("RecordError", func() error { return f.Store.RecordError(ctx, id, msg) })
}

func (f *faultStore) CreateSession(ctx context.Context, s store.Session) error {
	return f.do("CreateSession", func() error { return f.Store.CreateSession(ctx, s) })
}

func (f *faultStore) AdvanceSession(ctx context.Context, s store.Session, from store.SessionState, now time.Time) error {
	return f.do("AdvanceSession", func() error { return f.Store.AdvanceSession(ctx, s, from, now) })
}

func (f *faultStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := f.step("DeleteExpiredSessions"); err != nil {
		return 0, err
	}
	return f.Store.DeleteExpiredSessions(ctx, now)
}

func (f *faultStore) AddReport(ctx context.Context, r store.Report) error {
	return f.do("AddReport", func() error { return f.Store.AddReport(ctx, r) })
}

func (f *faultStore) RecordAnswer(ctx context.Context, a store.Answer) error {
	return f.do("RecordAnswer", func() error { return f.Store.RecordAnswer(ctx, a) })
}

func (f *faultStore) AddPrincipal(ctx context.Context, p store.Principal) error {
	return f.do("AddPrincipal", func() error { return f.Store.AddPrincipal(ctx, p) })
}

func (f *faultStore) SetPassword(ctx context.Context, name string, hash []byte) error {
	return f.do("SetPassword", func() error { return f.Store.SetPassword(ctx, name, hash) })
}

func (f *faultStore) AddToken(ctx context.Context, t store.Token) error {
	return f.do("AddToken", func() error { return f.Store.AddToken(ctx, t) })
}

func (f *faultStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return f.do("RevokeToken", func() error { return f.Store.RevokeToken(ctx, id, at) })
}

func (f *faultStore) AddLoginSession(ctx context.Context, s store.LoginSession) error {
	return f.do("AddLoginSession", func() error { return f.Store.AddLoginSession(ctx, s) })
}

func (f *faultStore) DeleteLoginSession(ctx context.Context, hash []byte) error {
	return f.do("DeleteLoginSession", func() error { return f.Store.DeleteLoginSession(ctx, hash) })
}

func (f *faultStore) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	if err := f.step("AppendAudit"); err != nil {
		return 0, err
	}
	return f.Store.AppendAudit(ctx, e)
}

func (f *faultStore) SetTags(ctx context.Context, device string, tags []string) error {
	return f.do("SetTags", func() error { return f.Store.SetTags(ctx, device, tags) })
}

func (f *faultStore) AddGroup(ctx context.Context, g store.Group) error {
	return f.do("AddGroup", func() error { return f.Store.AddGroup(ctx, g) })
}

func (f *faultStore) AddRelease(ctx context.Context, r store.Release) error {
	return f.do("AddRelease", func() error { return f.Store.AddRelease(ctx, r) })
}

func (f *faultStore) CreateRollout(ctx context.Context, r store.Rollout, devices []string) error {
	return f.do("CreateRollout", func() error { return f.Store.CreateRollout(ctx, r, devices) })
}

func (f *faultStore) SetRolloutState(ctx context.Context, id string, from, to store.RolloutState, reason string, now time.Time) error {
	return f.do("SetRolloutState", func() error { return f.Store.SetRolloutState(ctx, id, from, to, reason, now) })
}

func (f *faultStore) AdvanceWave(ctx context.Context, id string, from int, now time.Time) error {
	return f.do("AdvanceWave", func() error { return f.Store.AdvanceWave(ctx, id, from, now) })
}

func (f *faultStore) MoveDelivery(ctx context.Context, next store.Delivery, from store.DeliveryState, token []byte) error {
	return f.do("MoveDelivery", func() error { return f.Store.MoveDelivery(ctx, next, from, token) })
}

func (f *faultStore) AddWithdrawal(ctx context.Context, w store.Withdrawal) error {
	return f.do("AddWithdrawal", func() error { return f.Store.AddWithdrawal(ctx, w) })
}

func (f *faultStore) DeleteWithdrawal(ctx context.Context, component suit.ComponentID) error {
	return f.do("DeleteWithdrawal", func() error { return f.Store.DeleteWithdrawal(ctx, component) })
}
