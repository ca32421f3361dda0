package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/storetest"
)

// open is a new store in a file of its own.
func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// TestReplicas races two Stores on one file, as two TAM processes sharing
// it would.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "tam.db")
		var out [2]store.Store
		for i := range out {
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			out[i] = s
		}
		return out[0], out[1]
	})
}
