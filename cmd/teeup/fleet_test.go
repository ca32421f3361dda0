package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/fleet"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam/store"
)

// TestFleetSimulate: teeup fleet simulate registers 10 light devices at a
// whole TAM through the operator API and runs their TEEP sessions until
// idle (a round in which no install succeeded): a TA published for delivery is installed by every device but the
// seeded 20% whose installs fail (they answer Error) and the 10% whose
// evidence is stale (they are given no Update); the summary counts each.
func TestFleetSimulate(t *testing.T) {
	url, st, _, admin := catalogTAM(t)
	key, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.MarshalPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	authorFile := filepath.Join(t.TempDir(), "author.pub.pem")
	if err := os.WriteFile(authorFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	id := suit.ComponentID{[]byte("ta"), []byte("x")}
	env, err := author.Build(&author.Manifest{SequenceNumber: 2, VendorID: bytes.Repeat([]byte{0xfa}, 16),
		ClassID: bytes.Repeat([]byte{0x14}, 16), Components: []author.Component{{ID: id, Payload: []byte("ta x"), Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(key); err != nil {
		t.Fatal(err)
	}
	raw := env.Encode()
	sum := sha256.Sum256(raw)
	if err := st.PutEnvelope(context.Background(), store.Envelope{Digest: sum[:], Kind: store.TAEnvelope,
		Components: []suit.ComponentID{id}, SequenceNumber: 2, Author: "acme", Raw: raw, Published: time.Now()}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := teeup(t, "fleet", "simulate", "--tam", url, "--token", admin, "--register", "--devices", "10",
		"--author", authorFile, "--fail-install", "0.2", "--fail-attest", "0.1", "--seed", "7", "--concurrency", "4", "--json")
	if code != 0 {
		t.Fatalf("fleet simulate: exit %d\n%s\n%s", code, out, errOut)
	}
	var got fleet.Summary
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// A device drawn for both failures is given no Update: it never
	// reaches its install.
	if got.Devices != 10 || got.InjectedInstall != 2 || got.InjectedAttest != 1 || got.SessionErrors != 0 || got.Rounds != 2 ||
		got.InstallSucceeded+got.InstallFailed != got.Updates || got.InstallFailed > 2*2 ||
		got.InstallSucceeded < 10-2-1 || got.InstallSucceeded > 10-1 {
		t.Fatalf("summary %+v\n%s", got, errOut)
	}
	fleetSum, err := st.FleetSummary(context.Background())
	if err != nil || fleetSum.Devices != 10 {
		t.Fatalf("%d devices registered (%v), want 10", fleetSum.Devices, err)
	}
}
