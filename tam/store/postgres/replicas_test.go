package postgres_test

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/tamtest"
)

// Two TAM replicas, each with its own pool, on one PostgreSQL database;
// devices' sessions alternate between them; replica B is killed (its
// listener closed with the connections in flight, its TEEP server and its
// pool closed) while sessions run. The rollout goes on through replica A
// alone: every device ends with the release installed exactly once, no
// wave is started twice (the rollout ends at its last wave, each wave
// whole), and the store's counts match what the devices run.
func TestTwoReplicasOneKilled(t *testing.T) {
	const devices = 12
	ctx := t.Context()
	dsn := pgtest.Database(t)
	openStore := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.WithMaxConns(4))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storeA, storeB := openStore(), openStore()
	clock := tamtest.NewClock()
	a := tamtest.NewTAM(t, tamtest.Options{Store: storeA, Clock: clock, Seed: 1})
	b := tamtest.NewTAM(t, tamtest.Options{Store: storeB, Clock: clock, Key: a.Key, Seed: 2})
	// B is reached through a listener of its own that the kill closes, so
	// that after it B refuses connections as a dead process does.
	bURL, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(httputil.NewSingleHostReverseProxy(bURL))
	t.Cleanup(front.Close)
	reachB := *b
	reachB.URL = front.URL
	replicas := [2]*tamtest.TAM{a, &reachB}

	ev := tamtest.NewEvidence(t)
	author := tamtest.NewAuthor(t)
	var ids []string
	devs := map[string]*tamtest.Device{}
	for range devices {
		d := a.NewDevice(t, ev, []*suit.Key{author.Pub}, tamtest.DeviceOptions{})
		devs[d.ID] = d
		ids = append(ids, d.ID)
	}
	ta := tamtest.ID("TA", "acme", "replicated")
	env := author.Publish(t, a, store.TAEnvelope, ta, 2, true)
	if _, err := a.Rollout.AddGroup(ctx, store.Group{Name: "all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Rollout.AddRelease(ctx, "v2", [][]byte{env.Digest}); err != nil {
		t.Fatal(err)
	}
	waves, err := rollout.ParseWaves("25%,25%,50%")
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Rollout.Create(ctx, rollout.Spec{Group: "all", Release: "v2", Waves: waves, SuccessThreshold: 100, ErrorThreshold: 50})
	if err != nil {
		t.Fatal(err)
	}

	// Rounds: every device runs one session at once, at replica A or B
	// by turns. B is killed in round 1 once two sessions have begun at
	// it, with others in flight; a session it cuts fails, and the device
	// tries again next round. The clock moves a minute a round, so that
	// the sessions B left waiting expire and their deliveries are sent
	// again by A.
	var (
		atB, atBRound1, cut atomic.Int64
		killed              atomic.Bool
		killOnce            sync.Once
	)
	kill := func() {
		killOnce.Do(func() {
			front.CloseClientConnections()
			front.Close()
			b.TEEP.Close()
			storeB.Close()
			killed.Store(true)
		})
	}
	var final store.Rollout
	for round := 0; ; round++ {
		if round == 40 {
			t.Fatalf("the rollout did not complete in %d rounds: %+v", round, final)
		}
		var wg sync.WaitGroup
		i := 0
		for _, d := range devs {
			tm := replicas[(i+round)%2]
			i++
			if tm != a && killed.Load() {
				tm = a
			}
			wg.Go(func() {
				if tm != a {
					atB.Add(1)
					if round == 1 && atBRound1.Add(1) == 3 {
						kill()
					}
				}
				if _, err := d.SessionAt(context.Background(), tm); err != nil {
					if tm == a {
						t.Errorf("session of %s at replica A: %v", d.ID, err)
					}
					cut.Add(1)
				}
			})
		}
		wg.Wait()
		if round == 1 {
			kill()
		}
		clock.Advance(time.Minute)
		if final, err = storeA.Rollout(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if final.State != store.RolloutRunning {
			break
		}
	}

	if final.State != store.RolloutCompleted || final.Wave != len(final.Waves)-1 {
		t.Fatalf("rollout %s at wave %d of %d (%s), want completed at its last wave", final.State, final.Wave, len(final.Waves), final.Reason)
	}
	progress, err := storeA.Progress(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	for w, p := range progress {
		if p.Devices != final.Waves[w] || p.Succeeded != p.Devices {
			t.Fatalf("wave %d: %+v, want all %d succeeded", w, p, final.Waves[w])
		}
		succeeded += p.Succeeded
	}
	running := 0
	for _, d := range devs {
		if n := d.TCs.Installs(); n != 1 {
			t.Errorf("device %s installed %d sets, want 1", d.ID, n)
		}
		if seq, ok := d.TCs.Runs(ta); ok && seq == 2 {
			running++
		}
		del, err := storeA.Delivery(ctx, r.ID, d.ID)
		if err != nil || del.State != store.DeliverySucceeded {
			t.Errorf("delivery to %s: %+v, %v", d.ID, del, err)
		}
	}
	if running != devices || succeeded != devices {
		t.Fatalf("%d devices run the release, the store counts %d succeeded, of %d", running, succeeded, devices)
	}
	// The dead replica's pool is closed: it can do nothing more.
	if _, err := storeB.Rollout(ctx, r.ID); err == nil {
		t.Fatal("the killed replica's store still answers")
	}
	// The session that killed B, at least, was cut.
	if cut.Load() == 0 {
		t.Fatal("no session was cut by the kill")
	}
	t.Logf("%d sessions at replica B, %d cut by its kill; completed at wave %d", atB.Load(), cut.Load(), final.Wave)
}
