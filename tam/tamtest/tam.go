package tamtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/teepsrv"
)

// TAM is a TAM under test: its TEEP endpoint served over HTTP at URL, its
// store, its rollout engine, its key and its clock.
type TAM struct {
	Store   store.Store
	Rollout *rollout.Engine
	TEEP    *teepsrv.Server
	Key     *ecdsa.PrivateKey
	Pub     *suit.Key
	Clock   *Clock
	URL     string // the base URL; POST {URL}/tam is the TEEP endpoint
}

// Options change how NewTAM makes a TAM; the zero value is a TAM of its
// own on SQLite.
type Options struct {
	// Store is the store to use (another TAM's, for a second replica);
	// a new SQLite store in the test's directory when nil.
	Store store.Store
	// Clock is the clock (a new one at T0 when nil).
	Clock *Clock
	// Key is the TAM key (a new one when nil).
	Key *ecdsa.PrivateKey
	// Seed seeds the TAM's randomness: its tokens, challenges and
	// rollout IDs.
	Seed uint64
}

// NewTAM makes a TAM and serves its TEEP routes until the test ends.
func NewTAM(t testing.TB, o Options) *TAM {
	t.Helper()
	if o.Clock == nil {
		o.Clock = NewClock()
	}
	if o.Store == nil {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tam.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		o.Store = s
	}
	rnd := Seeded(o.Seed)
	if o.Key == nil {
		var err error
		if o.Key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := suit.NewPublicKey(&o.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var srv *teepsrv.Server // made below: the engine wakes its long polls
	eng, err := rollout.New(rollout.Config{Store: o.Store, Now: o.Clock.Now, Rand: rnd,
		Notify: func(device string) { srv.Notify(device) }})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = teepsrv.New(teepsrv.Config{Store: o.Store, Key: o.Key, Rollouts: eng, Now: o.Clock.Now, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tam", srv.ServeTEEP)
	mux.HandleFunc("GET /tam/poll", srv.ServePoll)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return &TAM{Store: o.Store, Rollout: eng, TEEP: srv, Key: o.Key, Pub: pub, Clock: o.Clock, URL: hs.URL}
}
