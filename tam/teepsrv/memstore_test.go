package teepsrv_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// memStore is the part of store.Store the TEEP endpoint uses, in memory,
// with the interface's rules (ErrNotFound, ErrExists, the compare-and-set
// of AdvanceSession), for these tests until the embedded backend is on
// main. The rest of store.Store is left nil: calling it panics.
type memStore struct {
	store.Store
	mu        sync.Mutex
	devices   map[string]store.Device
	sessions  map[string]store.Session
	envelopes []store.Envelope
	reports   []store.Report
}

func newMemStore() *memStore {
	return &memStore{devices: map[string]store.Device{}, sessions: map[string]store.Session{}}
}

func (m *memStore) Close() error { return nil }

func (m *memStore) AddDevice(_ context.Context, d store.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.devices[d.ID]; ok {
		return store.ErrExists
	}
	m.devices[d.ID] = d
	return nil
}

func (m *memStore) Device(_ context.Context, id string) (store.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return store.Device{}, store.ErrNotFound
	}
	return d, nil
}

func (m *memStore) update(id string, f func(*store.Device)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.devices[id]
	if !ok {
		return store.ErrNotFound
	}
	f(&d)
	m.devices[id] = d
	return nil
}

func (m *memStore) RecordTCs(_ context.Context, id string, tcs []store.InstalledTC, seen time.Time) error {
	return m.update(id, func(d *store.Device) { d.TCs, d.LastSeen = tcs, seen })
}

func (m *memStore) RecordAttestation(_ context.Context, id string, a store.Attestation) error {
	return m.update(id, func(d *store.Device) { d.Attestation = a })
}

func (m *memStore) RecordError(_ context.Context, id, msg string) error {
	return m.update(id, func(d *store.Device) { d.LastError = msg })
}

func (m *memStore) CreateSession(_ context.Context, s store.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[string(s.Token)]; ok {
		return store.ErrExists
	}
	m.sessions[string(s.Token)] = s
	return nil
}

func (m *memStore) Session(_ context.Context, token []byte) (store.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[string(token)]
	if !ok {
		return store.Session{}, store.ErrNotFound
	}
	return s, nil
}

func (m *memStore) AdvanceSession(_ context.Context, s store.Session, from store.SessionState, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.sessions[string(s.Token)]
	if !ok {
		return store.ErrNotFound
	}
	if old.State != from || !now.Before(old.Expires) {
		return store.ErrConflict
	}
	m.sessions[string(s.Token)] = s
	return nil
}

func (m *memStore) PutEnvelope(_ context.Context, e store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.envelopes {
		if bytes.Equal(o.Digest, e.Digest) {
			return store.ErrExists
		}
	}
	m.envelopes = append(m.envelopes, e)
	return nil
}

func (m *memStore) ListEnvelopes(context.Context) ([]store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.envelopes), nil
}

func (m *memStore) LatestFor(_ context.Context, device string) ([]store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	best := map[string]store.Envelope{}
	for _, e := range m.envelopes {
		if e.Device != "" && e.Device != device {
			continue
		}
		for _, c := range e.Components {
			if o, ok := best[c.String()]; !ok || e.SequenceNumber > o.SequenceNumber {
				best[c.String()] = e
			}
		}
	}
	var out []store.Envelope
	for _, e := range best {
		out = append(out, e)
	}
	return out, nil
}

func (m *memStore) AddReport(_ context.Context, r store.Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports = append(m.reports, r)
	return nil
}

func (m *memStore) Reports(_ context.Context, device string, limit int) ([]store.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Report
	for i := len(m.reports) - 1; i >= 0 && len(out) < limit; i-- {
		if m.reports[i].Device == device {
			out = append(out, m.reports[i])
		}
	}
	return out, nil
}
