package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/teeup/teeup/tam/store"
)

// Writers racing on one file — goroutines of one Store, and two Stores
// as two TAM processes sharing the file would — never fail with
// SQLITE_BUSY: within a Store writes queue on its one connection, across
// Stores the busy timeout waits for the other's transaction.
func TestConcurrentWritersNeverFail(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const goroutines, writes = 6, 15
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []error
	)
	for si, s := range stores {
		for g := range goroutines {
			wg.Go(func() {
				for i := range writes {
					id := fmt.Sprintf("s%d-g%d-%d", si, g, i)
					err := s.CreateSession(t.Context(), store.Session{Token: []byte(id), State: store.QuerySent, Expires: colTime(1 << 62)})
					if err == nil {
						_, err = s.AppendAudit(t.Context(), store.AuditEntry{Action: "write", Target: id})
					}
					if err == nil {
						// Reads beside the writes, on the read pool.
						_, err = s.Session(t.Context(), []byte(id))
					}
					if err != nil {
						mu.Lock()
						failed = append(failed, err)
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of %d writes failed, the first: %v", len(failed), 2*goroutines*writes, failed[0])
	}
	es, err := stores[0].ListAudit(t.Context(), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2*goroutines*writes {
		t.Fatalf("%d audit entries, want %d", len(es), 2*goroutines*writes)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Seq <= es[i-1].Seq {
			t.Fatalf("seq %d after %d", es[i].Seq, es[i-1].Seq)
		}
	}
}
