package catalog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// memStore is the part of store.Store the catalog uses, in memory, until
// tam/store/sqlite lands; the methods the catalog does not call are left
// to the nil embedded interface (a call panics, failing the test).
type memStore struct {
	store.Store
	mu        sync.Mutex
	authors   []store.Author
	envelopes []store.Envelope
	payloads  map[string][]byte
	devices   []store.Device
	reports   []store.Report
}

func newMemStore() *memStore { return &memStore{payloads: map[string][]byte{}} }

func (m *memStore) AddAuthor(_ context.Context, a store.Author) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.authors, func(x store.Author) bool { return x.Name == a.Name }) {
		return store.ErrExists
	}
	m.authors = append(m.authors, a)
	return nil
}

func (m *memStore) Author(_ context.Context, name string) (store.Author, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.authors {
		if a.Name == name {
			return a, nil
		}
	}
	return store.Author{}, store.ErrNotFound
}

func (m *memStore) ListAuthors(context.Context) ([]store.Author, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.authors), nil
}

func (m *memStore) PutEnvelope(_ context.Context, e store.Envelope) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.envelopes, func(x store.Envelope) bool { return bytes.Equal(x.Digest, e.Digest) }) {
		return store.ErrExists
	}
	m.envelopes = append(m.envelopes, e)
	return nil
}

func (m *memStore) Envelope(_ context.Context, digest []byte) (store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.envelopes {
		if bytes.Equal(e.Digest, digest) {
			return e, nil
		}
	}
	return store.Envelope{}, store.ErrNotFound
}

func (m *memStore) ListEnvelopes(context.Context) ([]store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.envelopes), nil
}

func (m *memStore) PutPayload(_ context.Context, digest, data []byte) error {
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], digest) {
		return store.ErrInvalid
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.payloads[hex.EncodeToString(digest)] = bytes.Clone(data)
	return nil
}

func (m *memStore) Payload(_ context.Context, digest []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.payloads[hex.EncodeToString(digest)]
	if !ok {
		return nil, store.ErrNotFound
	}
	return b, nil
}

func (m *memStore) AddDevice(_ context.Context, d store.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.devices, func(x store.Device) bool { return x.ID == d.ID }) {
		return store.ErrExists
	}
	m.devices = append(m.devices, d)
	return nil
}

func (m *memStore) Device(_ context.Context, id string) (store.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.devices {
		if d.ID == id {
			return d, nil
		}
	}
	return store.Device{}, store.ErrNotFound
}

func (m *memStore) ListDevices(context.Context) ([]store.Device, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.devices), nil
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

func (m *memStore) update(id string, f func(*store.Device)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.devices {
		if m.devices[i].ID == id {
			f(&m.devices[i])
			return nil
		}
	}
	return store.ErrNotFound
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

// counts is how much the store holds, to check a refusal changed nothing.
func (m *memStore) counts() [4]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return [4]int{len(m.authors), len(m.envelopes), len(m.payloads), len(m.devices)}
}

// payloadValues are the stored payloads.
func (m *memStore) payloadValues() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [][]byte
	for _, b := range m.payloads {
		out = append(out, b)
	}
	return out
}
