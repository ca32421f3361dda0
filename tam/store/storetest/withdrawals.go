package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

func testWithdrawals(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		// Added out of order: the list is by time, then by component
		// (each part by its length, then its bytes).
		ws := []store.Withdrawal{
			{Component: cid("TA", "globex", "tool"), By: "operator", Created: at(2)},
			{Component: cid("TA", "acme", "hello"), By: "acme-dev", Created: at(1)},
			{Component: cid("TA", "acme", "zz"), By: "operator", Created: at(2)},
			{Component: suit.ComponentID{{}, {0x00, 0xff}}, By: "operator", Created: at(3)},
		}
		for _, w := range ws {
			wantErr(t, "add "+w.Component.String(), s.AddWithdrawal(ctx, w), nil)
		}
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, []store.Withdrawal{ws[1], ws[2], ws[0], ws[3]})
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		first := store.Withdrawal{Component: cid("TA", "acme", "hello"), By: "operator", Created: at(1)}
		wantErr(t, "add", s.AddWithdrawal(ctx, first), nil)
		again := store.Withdrawal{Component: cid("TA", "acme", "hello"), By: "acme-dev", Created: at(2)}
		wantErr(t, "add again", s.AddWithdrawal(ctx, again), store.ErrExists)
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list after a refused add", all, []store.Withdrawal{first})
	})
	t.Run("Delete", func(t *testing.T) {
		ctx, s := fresh(t, open)
		hello := store.Withdrawal{Component: cid("TA", "acme", "hello"), By: "operator", Created: at(1)}
		tool := store.Withdrawal{Component: cid("TA", "acme", "tool"), By: "operator", Created: at(1)}
		wantErr(t, "add hello", s.AddWithdrawal(ctx, hello), nil)
		wantErr(t, "add tool", s.AddWithdrawal(ctx, tool), nil)
		wantErr(t, "delete a prefix of hello", s.DeleteWithdrawal(ctx, cid("TA", "acme")), store.ErrNotFound)
		wantErr(t, "delete hello", s.DeleteWithdrawal(ctx, cid("TA", "acme", "hello")), nil)
		wantErr(t, "delete hello again", s.DeleteWithdrawal(ctx, cid("TA", "acme", "hello")), store.ErrNotFound)
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list after delete", all, []store.Withdrawal{tool})
		// Withdrawn again after the end of its first withdrawal.
		wantErr(t, "add hello again", s.AddWithdrawal(ctx, hello), nil)
	})
	t.Run("Empty", func(t *testing.T) {
		ctx, s := fresh(t, open)
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("list of an empty store: %v", all)
		}
		wantErr(t, "delete", s.DeleteWithdrawal(ctx, cid("TA", "acme", "hello")), store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		good := func(mod func(*store.Withdrawal)) store.Withdrawal {
			w := store.Withdrawal{Component: cid("TA", "acme", "hello"), By: "operator", Created: at(1)}
			mod(&w)
			return w
		}
		for _, tc := range []struct {
			name string
			w    store.Withdrawal
		}{
			{"no component", good(func(w *store.Withdrawal) { w.Component = nil })},
			{"component of too many parts", good(func(w *store.Withdrawal) {
				w.Component = make(suit.ComponentID, store.MaxComponentParts+1)
			})},
			{"component part too long", good(func(w *store.Withdrawal) { w.Component = suit.ComponentID{make([]byte, store.MaxKey+1)} })},
			{"no principal", good(func(w *store.Withdrawal) { w.By = "" })},
			{"principal too long", good(func(w *store.Withdrawal) { w.By = strings.Repeat("p", store.MaxKey+1) })},
			{"principal not UTF-8", good(func(w *store.Withdrawal) { w.By = "p\xff" })},
			{"time out of range", good(func(w *store.Withdrawal) { w.Created = at(0).AddDate(300, 0, 0) })},
		} {
			wantErr(t, tc.name, s.AddWithdrawal(ctx, tc.w), store.ErrInvalid)
		}
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("refused withdrawals were stored: %v", all)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		ctx, s := fresh(t, open)
		// Concurrent adders: the bound holds however they interleave.
		const adders = 8
		var wg sync.WaitGroup
		for a := range adders {
			wg.Go(func() {
				for i := a; i < store.MaxWithdrawals+adders; i += adders {
					err := s.AddWithdrawal(ctx, store.Withdrawal{Component: cid("TA", "acme", fmt.Sprint(i)), By: "operator", Created: at(1)})
					if err != nil && !errors.Is(err, store.ErrInvalid) {
						t.Errorf("add %d: %v", i, err)
					}
				}
			})
		}
		wg.Wait()
		all, err := s.ListWithdrawals(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != store.MaxWithdrawals {
			t.Fatalf("%d withdrawals stored, want the bound %d", len(all), store.MaxWithdrawals)
		}
		err = s.AddWithdrawal(ctx, store.Withdrawal{Component: cid("TA", "acme", "one-more"), By: "operator", Created: at(1)})
		wantErr(t, "add over the bound", err, store.ErrInvalid)
		wantErr(t, "delete one", s.DeleteWithdrawal(ctx, cid("TA", "acme", "0")), nil)
		err = s.AddWithdrawal(ctx, store.Withdrawal{Component: cid("TA", "acme", "one-more"), By: "operator", Created: at(1)})
		wantErr(t, "add under the bound again", err, nil)
	})
}
