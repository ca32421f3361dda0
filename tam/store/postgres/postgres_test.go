package postgres

import (
	"testing"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/store/storetest"
)

// open is a new store on a database of its own.
func open(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.Database(t), WithMaxConns(4))
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

// TestReopen: what the store acknowledged survives a TAM restart (a new
// pool on the same database).
func TestReopen(t *testing.T) {
	var dsn string
	storetest.Reopen(t, func(t *testing.T) store.Store {
		dsn = pgtest.Database(t)
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(t *testing.T, s store.Store) store.Store {
		s.Close()
		s2, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s2.Close() })
		return s2
	})
}

// TestReplicas races two Stores (two pools, as two TAM replicas) on one
// database.
func TestReplicas(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) (store.Store, store.Store) {
		dsn := pgtest.Database(t)
		var out [2]store.Store
		for i := range out {
			s, err := Open(t.Context(), dsn, WithMaxConns(4))
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
