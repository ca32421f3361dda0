package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/tamtest"
)

// Two TAM replicas, each with its own pool, on one PostgreSQL database;
// devices' sessions alternate between them; replica B dies while sessions
// run, right after it sent an Update that never reaches its device
// (connections dropped from then on, its TEEP server and pool closed).
// The rollout goes on through replica A alone: every device ends with the release installed exactly once, no
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
	// B is reached through a front of its own. B dies the moment it has
	// sent its first Update from round 1 on: that Update never reaches the
	// device (whose delivery B has marked sent under its session), and
	// from then on every connection to B is dropped unanswered, as by a
	// dead process; after the round its TEEP server and its pool are
	// closed.
	bURL, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	var (
		dead, armed     atomic.Bool
		atB, cut, drops atomic.Int64
	)
	proxy := httputil.NewSingleHostReverseProxy(bURL)
	proxy.ModifyResponse = func(rsp *http.Response) error {
		body, err := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		if err != nil {
			return err
		}
		rsp.Body = io.NopCloser(bytes.NewReader(body))
		if s, err := teep.Open(body, []*suit.Key{b.Pub}, teep.Draft26); err == nil && armed.Load() {
			if _, ok := s.Message.(*teep.Update); ok && dead.CompareAndSwap(false, true) {
				return errKilled
			}
		}
		return nil
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { hangUp(w) }
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if dead.Load() {
			drops.Add(1)
			hangUp(w)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	reachB := *b
	reachB.URL = front.URL
	replicas := [2]*tamtest.TAM{a, &reachB}
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			front.CloseClientConnections()
			front.Close()
			b.TEEP.Close()
			storeB.Close()
		})
	}

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

	// Rounds: every device (by ID) runs one session at once, at replica A
	// or B by turns, until B dies; then at A. A session B cuts fails, and
	// the device tries again next round. The clock moves a minute a
	// round, so that the session B left waiting expires and A sends its
	// delivery again.
	slices.Sort(ids)
	var final store.Rollout
	for round := 0; ; round++ {
		if round == 40 {
			t.Fatalf("the rollout did not complete in %d rounds: %+v", round, final)
		}
		armed.Store(round >= 1)
		var wg sync.WaitGroup
		for i, id := range ids {
			d, tm := devs[id], replicas[(i+round)%2]
			if dead.Load() {
				tm = a
			}
			wg.Go(func() {
				if tm != a {
					atB.Add(1)
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
		if dead.Load() {
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
	running, resent := 0, 0
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
		if del.Sends > 1 {
			resent++
		}
	}
	if running != devices || succeeded != devices {
		t.Fatalf("%d devices run the release, the store counts %d succeeded, of %d", running, succeeded, devices)
	}
	// The dead replica's pool is closed: it can do nothing more.
	if _, err := storeB.Rollout(ctx, r.ID); err == nil {
		t.Fatal("the killed replica's store still answers")
	}
	// The Update B sent as it died was sent again, by A, once B's
	// session expired.
	if !dead.Load() || cut.Load() == 0 || resent == 0 {
		t.Fatalf("B dead %v, %d sessions cut, %d deliveries sent again; want B dead, its last Update lost and sent again", dead.Load(), cut.Load(), resent)
	}
	t.Logf("%d sessions at replica B, %d cut by its death (%d requests dropped after it), %d deliveries sent again; completed at wave %d",
		atB.Load(), cut.Load(), drops.Load(), resent, final.Wave)
}

var errKilled = errors.New("replica B died before this answer left it")

// hangUp drops the connection without an answer, as a dead process does.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
