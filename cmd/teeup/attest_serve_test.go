package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/emulator/device"
)

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// TestAttestServe: a client of Veraison's challenge-response API opens a
// session with the verifier on loopback, has the device attest with the
// session's nonce and submits the evidence: the session completes with a
// trustworthy result. The same evidence submitted to another session
// (another nonce) is not trustworthy.
func TestAttestServe(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dev := filepath.Join(tmp, "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dev); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	ends, refs, err := readVerifierInputs(filepath.Join(dev, "identity"), []string{device.FactoryReferenceFile(dev)})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), seeded{rand.NewChaCha8([32]byte{3})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(verifierHandler(ends, refs, attest.Policy{}, key))
	defer srv.Close()
	type session struct {
		Nonce  []byte `json:"nonce"`
		Status string `json:"status"`
		Result string `json:"result"`
	}
	post := func(path, ctype string, body []byte) (*http.Response, session) {
		t.Helper()
		rsp, err := http.Post(srv.URL+path, ctype, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		var s session
		if err := json.NewDecoder(rsp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return rsp, s
	}
	open := func() (string, []byte) {
		t.Helper()
		rsp, s := post("/challenge-response/v1/newSession?nonceSize=32", "", nil)
		if rsp.StatusCode != http.StatusCreated || len(s.Nonce) != 32 {
			t.Fatalf("newSession: %d %+v", rsp.StatusCode, s)
		}
		return "/challenge-response/v1/" + rsp.Header.Get("Location"), s.Nonce
	}
	path, nonce := open()
	ev := filepath.Join(tmp, "evidence.cbor")
	if out, e, code := teeup(t, "device", "attest", "--dir", dev, "--nonce", hex.EncodeToString(nonce), "--out", ev); code != 0 {
		t.Fatalf("device attest: %s%s", out, e)
	}
	verdict := func(path string) bool {
		t.Helper()
		rsp, s := post(path, challenge.EvidenceMediaType, mustRead(t, ev))
		if rsp.StatusCode != http.StatusOK || s.Status != "complete" {
			t.Fatalf("submit: %d %+v", rsp.StatusCode, s)
		}
		ar, err := attest.VerifyEAR([]byte(s.Result), &key.PublicKey)
		if err != nil {
			t.Fatalf("the result is not an EAR signed by the verifier: %v", err)
		}
		sub, ok := ar.Submods[attest.EARSubmod]
		if !ok || sub.Status == nil {
			t.Fatalf("EAR without the %s submodule's status", attest.EARSubmod)
		}
		return *sub.Status == ear.TrustTierAffirming
	}
	if !verdict(path) {
		t.Fatal("the device's evidence for the session's nonce is not trustworthy")
	}
	other, _ := open()
	if verdict(other) {
		t.Fatal("evidence for another session's nonce is trustworthy")
	}
}
