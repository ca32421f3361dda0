package catalog_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// countedStore is the embedded SQLite store with a count of the writes
// that succeeded, to prove a refusal wrote nothing, a copy of every
// payload written, to prove a plaintext never was, and a count of the
// device reads by method, to prove the status reads pages, not the fleet.
type countedStore struct {
	store.Store
	mu       sync.Mutex
	writes   int
	payloads [][]byte
	reads    map[string]int
}

func (s *countedStore) read(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reads == nil {
		s.reads = map[string]int{}
	}
	s.reads[method]++
}

// readCounts are the device reads by method since the last call.
func (s *countedStore) readCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.reads
	s.reads = nil
	return r
}

func (s *countedStore) Reports(ctx context.Context, device string, limit int) ([]store.Report, error) {
	s.read("Reports")
	return s.Store.Reports(ctx, device, limit)
}

func (s *countedStore) LastReports(ctx context.Context, devices []string) (map[string]store.Report, error) {
	s.read("LastReports")
	return s.Store.LastReports(ctx, devices)
}

func (s *countedStore) DevicePage(ctx context.Context, after string, limit int) ([]store.Device, error) {
	s.read("DevicePage")
	return s.Store.DevicePage(ctx, after, limit)
}

func (s *countedStore) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	s.read("FleetSummary")
	return s.Store.FleetSummary(ctx)
}

func newStore(t *testing.T) *countedStore {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &countedStore{Store: st}
}

func (s *countedStore) wrote(err error) error {
	if err == nil {
		s.mu.Lock()
		s.writes++
		s.mu.Unlock()
	}
	return err
}

func (s *countedStore) AddAuthor(ctx context.Context, a store.Author) error {
	return s.wrote(s.Store.AddAuthor(ctx, a))
}

func (s *countedStore) PutEnvelope(ctx context.Context, e store.Envelope) error {
	return s.wrote(s.Store.PutEnvelope(ctx, e))
}

func (s *countedStore) PutPayload(ctx context.Context, digest, data []byte) error {
	err := s.wrote(s.Store.PutPayload(ctx, digest, data))
	if err == nil {
		s.mu.Lock()
		s.payloads = append(s.payloads, bytes.Clone(data))
		s.mu.Unlock()
	}
	return err
}

func (s *countedStore) AddDevice(ctx context.Context, d store.Device) error {
	return s.wrote(s.Store.AddDevice(ctx, d))
}

// counts is how many writes succeeded.
func (s *countedStore) counts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// payloadValues are the payloads written.
func (s *countedStore) payloadValues() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payloads
}
