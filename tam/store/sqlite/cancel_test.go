package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// Writes whose callers give up (a client gone, a request deadline) at
// every point of the write — before it, during it, never — either happen
// whole and say so, or fail and change nothing; the store goes on
// working. Counted: every write is checked against what it answered.
func TestCanceledWritesChangeNothing(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(14, 15))
	const n = 150
	type write struct {
		kind    int // 0: canceled before, 1: a deadline within the write, 2: none
		timeout time.Duration
		// What the two calls answered; nil when the second was not made.
		created, audited error
		madeAudit        bool
	}
	writes := make([]write, n)
	for i := range writes {
		writes[i] = write{kind: i % 3, timeout: time.Duration(rng.IntN(20000)) * time.Microsecond}
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := w; i < n; i += 3 {
				ctx, cancel := context.WithCancel(t.Context())
				switch writes[i].kind {
				case 0:
					cancel()
				case 1:
					ctx, cancel = context.WithTimeout(t.Context(), writes[i].timeout)
				}
				id := fmt.Sprint(i)
				w := &writes[i]
				w.created = s.CreateSession(ctx, store.Session{Token: []byte(id), State: store.QuerySent, Expires: colTime(1 << 62)})
				if w.created == nil {
					_, w.audited = s.AppendAudit(ctx, store.AuditEntry{Action: "write", Target: id})
					w.madeAudit = true
				}
				cancel()
			}
		})
	}
	wg.Wait()

	audited := map[string]bool{}
	es, err := s.ListAudit(t.Context(), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		audited[e.Target] = true
	}
	counts := map[string]int{}
	for i, w := range writes {
		id := fmt.Sprint(i)
		_, serr := s.Session(t.Context(), []byte(id))
		stored := serr == nil
		for _, call := range []struct {
			name     string
			made     bool
			err      error
			happened bool
		}{
			{"create session", true, w.created, stored},
			{"append audit", w.madeAudit, w.audited, audited[id]},
		} {
			switch {
			case !call.made && call.happened:
				t.Fatalf("write %d: %s happened without being asked", i, call.name)
			case !call.made:
				continue
			case call.err == nil && !call.happened:
				t.Fatalf("write %d: %s answered ok but is not stored", i, call.name)
			case call.err != nil && call.happened:
				t.Fatalf("write %d: %s failed (%v) but is stored", i, call.name, call.err)
			case call.err != nil && !errors.Is(call.err, context.Canceled) && !errors.Is(call.err, context.DeadlineExceeded):
				t.Fatalf("write %d: %s: %v, not the caller's cancellation", i, call.name, call.err)
			case w.kind == 0 && call.err == nil:
				t.Fatalf("write %d: %s with a canceled context answered ok", i, call.name)
			case w.kind == 2 && call.err != nil:
				t.Fatalf("write %d: %s without a deadline: %v", i, call.name, call.err)
			}
			if call.err == nil {
				counts["ok"]++
			} else {
				counts["failed"]++
			}
		}
	}
	// The store works on after all of it.
	if err := s.CreateSession(t.Context(), store.Session{Token: []byte("after"), State: store.QuerySent}); err != nil {
		t.Fatalf("a write after the canceled ones: %v", err)
	}
	t.Logf("%d calls answered ok and are stored, %d failed and changed nothing", counts["ok"], counts["failed"])
}
