package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// PairOpener makes two stores on one new, empty database, as two TAM
// replicas see it, and arranges their Close (t.Cleanup).
type PairOpener func(t *testing.T) (a, b store.Store)

// RunReplicas runs the compare-and-set races with the racers split over
// two stores on one database: a session advanced, a rollout moved, a wave
// started and a delivery sent, each exactly once.
func RunReplicas(t *testing.T, open PairOpener) {
	const n = 16
	race := func(t *testing.T, stores [2]store.Store, f func(s store.Store, i int) error) int {
		t.Helper()
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = f(stores[i%2], i) })
		}
		wg.Wait()
		return oneWinner(t, errs)
	}
	setup := func(t *testing.T) ([2]store.Store, store.Rollout) {
		t.Helper()
		t.Parallel()
		a, b := open(t)
		r, _ := rolloutOn(t.Context(), t, a, 1, 1)
		return [2]store.Store{a, b}, r
	}
	t.Run("Session", func(t *testing.T) {
		t.Parallel()
		a, b := open(t)
		wantErr(t, "create", a.CreateSession(t.Context(), session("tok")), nil)
		race(t, [2]store.Store{a, b}, func(s store.Store, i int) error {
			return s.AdvanceSession(t.Context(), updated(session("tok"), sum(fmt.Appendf(nil, "envelope %d", i))), store.QuerySent, at(time.Second))
		})
	})
	t.Run("RolloutState", func(t *testing.T) {
		stores, _ := setup(t)
		race(t, stores, func(s store.Store, i int) error {
			to := []store.RolloutState{store.RolloutPaused, store.RolloutCanceled}[i%2]
			return s.SetRolloutState(t.Context(), "ro", store.RolloutRunning, to, "", at(time.Second))
		})
	})
	t.Run("AdvanceWave", func(t *testing.T) {
		stores, _ := setup(t)
		race(t, stores, func(s store.Store, _ int) error { return s.AdvanceWave(t.Context(), "ro", 0, at(time.Second)) })
		for _, s := range stores {
			if got, err := s.Rollout(t.Context(), "ro"); err != nil || got.Wave != 1 {
				t.Fatalf("rollout after the race: wave %d, %v; want wave 1", got.Wave, err)
			}
		}
	})
	t.Run("Delivery", func(t *testing.T) {
		stores, _ := setup(t)
		winner := race(t, stores, func(s store.Store, i int) error {
			next := store.Delivery{Rollout: "ro", Device: "d000", State: store.DeliverySent, Token: fmt.Appendf(nil, "token-%d", i), Sends: 1, Updated: at(time.Second)}
			return s.MoveDelivery(t.Context(), next, store.DeliveryPending, nil)
		})
		got, err := stores[1-winner%2].Delivery(t.Context(), "ro", "d000")
		wantErr(t, "delivery", err, nil)
		if string(got.Token) != fmt.Sprintf("token-%d", winner) {
			t.Fatalf("the other replica reads token %q, the winner was %d", got.Token, winner)
		}
	})
}
