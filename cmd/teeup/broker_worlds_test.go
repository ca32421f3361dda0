package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/fetch"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/teepsrv"
)

// TestBrokerRealWorlds: the broker between the real TAM (teepsrv on its
// SQLite store) and a real secure world (its TEEP Agent, update service
// and TA store). The TA's payload is missing when the first session
// needs it: the broker cancels the install set, and the secure world is
// idle (it takes the next update) with nothing installed. The next session, the payload served,
// installs the TA.
func TestBrokerRealWorlds(t *testing.T) {
	ctx := context.Background()
	tamKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tamPub, err := suit.NewPublicKey(&tamKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rig := devicetest.NewWithTAMs(t, devicetest.Layout, tamPub)
	sw, err := ipc.NewClient(rig.Serve(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tam, err := teepsrv.New(teepsrv.Config{Store: st, Key: tamKey})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(strings.Repeat("hello TA, release 1\n", 400))
	var serving atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tam", tam.ServeTEEP)
	mux.HandleFunc("GET /payloads/{digest}", func(w http.ResponseWriter, r *http.Request) {
		if !serving.Load() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(payload))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The device, registered as the TAM knows it: its Agent key, its
	// endorsement, its factory reference values.
	raw, err := os.ReadFile(device.AgentKeyFile(rig.Dir))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	id := agentThumbprint(t, rig.Dir)
	endorsement, _ := os.ReadFile(rig.EndorsementFile())
	reference, _ := os.ReadFile(rig.FactoryReferenceFile())
	if err := st.AddDevice(ctx, store.Device{ID: id, AgentKey: block.Bytes, Endorsement: endorsement, Reference: reference, Registered: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A TA of acme, its payload detached at the payload server.
	ta := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	sum := sha256.Sum256(payload)
	env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: device.VendorID, ClassID: device.ClassID,
		Components: []author.Component{{ID: ta, Payload: payload, URI: srv.URL + "/payloads/" + hex.EncodeToString(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(rig.Signers.TAAuthors["acme"]); err != nil {
		t.Fatal(err)
	}
	envRaw := env.Encode()
	digest := sha256.Sum256(envRaw)
	if err := st.PutEnvelope(ctx, store.Envelope{Digest: digest[:], Kind: store.TAEnvelope, Components: []suit.ComponentID{ta},
		SequenceNumber: 1, Author: "acme", Raw: envRaw, Payloads: [][]byte{sum[:]}, Published: time.Now()}); err != nil {
		t.Fatal(err)
	}

	dl, err := fetch.New(fetch.Config{Client: srv.Client(), Backoff: fetch.Backoff{Sleep: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := broker.New(broker.Config{TAM: srv.URL, SW: sw, Client: srv.Client(), Fetch: dl})
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Session(ctx)
	if !errors.Is(err, fetch.ErrNotFound) || out.Received != 2 || out.Payloads != 0 {
		t.Fatalf("session with the payload missing: %+v, %v", out, err)
	}
	status, err := sw.DeviceStatus(ctx)
	if err != nil || len(status.TAs) != 0 {
		t.Fatalf("after the cancelled set the secure world holds %+v, %v; want no TA", status.TAs, err)
	}
	// Idle: it takes the next update at once (a set left open would be
	// refused as another update in progress).
	next, err := sw.StartUpdate(ctx, rig.NormalEnvelopeAt(2, devicetest.NormalImage(2, 3000), srv.URL+"/normal-2.bin"))
	if err != nil {
		t.Fatalf("after the failed session the secure world refuses the next update: %v", err)
	}
	if err := sw.Cancel(ctx, next.Set); err != nil {
		t.Fatal(err)
	}

	serving.Store(true)
	out, err = b.Session(ctx)
	if err != nil || out.Payloads != 1 || out.PayloadBytes != uint64(len(payload)) || out.Reboot {
		t.Fatalf("session with the payload served: %+v, %v", out, err)
	}
	status, err = sw.DeviceStatus(ctx)
	if err != nil || status.State != "idle" || len(status.TAs) != 1 || status.TAs[0].SequenceNumber != 1 {
		t.Fatalf("after the session the secure world is %+v, %v; want the TA installed", status, err)
	}
}
