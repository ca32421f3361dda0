package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

func entry(i int) store.AuditEntry {
	return store.AuditEntry{
		Time: at(time.Duration(i) * time.Second), Principal: "admin", Action: "token.create",
		Target: fmt.Sprint("token-", i), Result: "ok", Detail: fmt.Sprint("entry ", i),
	}
}

func testAudit(t *testing.T, open Opener) {
	t.Run("AppendList", func(t *testing.T) {
		ctx, s := fresh(t, open)
		var want []store.AuditEntry
		last := int64(0)
		for i := range 5 {
			e := entry(i)
			e.Seq = 1000 // the store gives the Seq, not the caller
			if i == 3 {
				e.Principal, e.Result, e.Detail = "", "refused: no credentials", ""
			}
			seq, err := s.AppendAudit(ctx, e)
			wantErr(t, "append", err, nil)
			if seq <= last {
				t.Fatalf("append %d got seq %d after %d", i, seq, last)
			}
			last, e.Seq = seq, seq
			want = append(want, e)
		}
		got, err := s.ListAudit(ctx, 0, 100)
		wantErr(t, "list", err, nil)
		same(t, "audit", got, want)
	})
	t.Run("Paging", func(t *testing.T) {
		ctx, s := fresh(t, open)
		var want []store.AuditEntry
		for i := range 25 {
			e := entry(i)
			seq, err := s.AppendAudit(ctx, e)
			wantErr(t, "append", err, nil)
			e.Seq = seq
			want = append(want, e)
		}
		var got []store.AuditEntry
		after, pages := int64(0), 0
		for {
			page, err := s.ListAudit(ctx, after, 10)
			wantErr(t, "page", err, nil)
			if len(page) == 0 {
				break
			}
			if pages++; pages > 3 || len(page) > 10 {
				t.Fatalf("page %d of %d entries", pages, len(page))
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		same(t, "pages", got, want)
		page, err := s.ListAudit(ctx, want[22].Seq, 10)
		wantErr(t, "last page", err, nil)
		same(t, "last page", page, want[23:])
		for _, limit := range []int{0, -1} {
			_, err := s.ListAudit(ctx, 0, limit)
			wantErr(t, fmt.Sprint("limit ", limit), err, store.ErrInvalid)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		ctx, s := fresh(t, open)
		const writers, each = 8, 5
		seqs := make([][]int64, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					seq, err := s.AppendAudit(ctx, entry(w*each+i))
					if err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					seqs[w] = append(seqs[w], seq)
				}
			})
		}
		wg.Wait()
		got, err := s.ListAudit(ctx, 0, 100)
		wantErr(t, "list", err, nil)
		if len(got) != writers*each {
			t.Fatalf("%d entries, want %d", len(got), writers*each)
		}
		listed := map[int64]bool{}
		for i, e := range got {
			if i > 0 && e.Seq <= got[i-1].Seq {
				t.Fatalf("entry %d: seq %d after %d", i, e.Seq, got[i-1].Seq)
			}
			listed[e.Seq] = true
		}
		for w, ss := range seqs {
			for i, seq := range ss {
				if !listed[seq] || (i > 0 && seq <= ss[i-1]) {
					t.Fatalf("writer %d got seq %d (listed %v, after %v)", w, seq, listed[seq], ss[:i])
				}
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		for _, tc := range []struct {
			name string
			e    store.AuditEntry
		}{
			{"no action", store.AuditEntry{Time: at(1)}},
			{"detail over MaxText", store.AuditEntry{Action: "publish", Detail: string(make([]byte, store.MaxText+1))}},
			{"target not UTF-8", store.AuditEntry{Action: "publish", Target: "\xfe"}},
		} {
			_, err := s.AppendAudit(ctx, tc.e)
			wantErr(t, tc.name, err, store.ErrInvalid)
		}
		got, err := s.ListAudit(ctx, 0, 10)
		wantErr(t, "list", err, nil)
		if len(got) != 0 {
			t.Fatalf("refused entries were appended: %v", got)
		}
	})
}
