package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/secure/teep"
)

// quietTAM is a TAM with nothing for the device: it answers every TEEP
// POST with 204 and holds each long poll a moment before its 204. It
// counts the sessions opened (empty POSTs) and the polls.
type quietTAM struct {
	mu              sync.Mutex
	sessions, polls int
	pollQuery       string
}

func (q *quietTAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q.mu.Lock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/tam" && r.ContentLength == 0 && r.Header.Get("Accept") == broker.MediaType:
		q.sessions++
	case r.Method == http.MethodGet && r.URL.Path == "/tam/poll":
		q.polls++
		q.pollQuery = r.URL.RawQuery
	}
	q.mu.Unlock()
	if r.URL.Path == "/tam/poll" {
		time.Sleep(50 * time.Millisecond)
	}
	w.WriteHeader(http.StatusNoContent)
}

// agentThumbprint is the hex RFC 9679 thumbprint of the device's Agent
// key, as the TAM computes it from the key it registered.
func agentThumbprint(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(device.AgentKeyFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := teep.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(tp)
}

func (q *quietTAM) count() (sessions, polls int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sessions, q.polls
}

// TestDeviceTEEP: device run --tam runs the broker's first session once
// the device is up; device teep runs one more, with the TAM of device run
// or the one it names (a self-signed HTTPS TAM trusted with --tam-ca),
// and says what it exchanged; an untrusted certificate fails.
func TestDeviceTEEP(t *testing.T) {
	tam := &quietTAM{}
	srv := httptest.NewServer(tam)
	defer srv.Close()
	tlsTAM := &quietTAM{}
	tlsSrv := httptest.NewTLSServer(tlsTAM)
	defer tlsSrv.Close()
	ca := filepath.Join(t.TempDir(), "tam-cert.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o644)

	d := startDevice(t, "true", "--tam", srv.URL, "--poll", "1h")
	deadline := time.Now().Add(30 * time.Second)
	for s, _ := tam.count(); s == 0; s, _ = tam.count() {
		if time.Now().After(deadline) {
			t.Fatal("device run --tam opened no session")
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, e, code := teeup(t, "device", "teep", "--dir", d.dir)
	if code != 0 || !strings.Contains(out, "TEEP session: 0 message(s) from the TAM, 0 to it (1 HTTP requests)") || !strings.Contains(out, "session over, no reboot needed") {
		t.Fatalf("device teep: exit %d\n%s%s", code, out, e)
	}
	if s, _ := tam.count(); s != 2 {
		t.Fatalf("the TAM saw %d sessions, want 2", s)
	}
	// Between sessions the broker long-polls, as the device the TAM
	// knows by its Agent key's thumbprint.
	for _, p := tam.count(); p == 0; _, p = tam.count() {
		if time.Now().After(deadline) {
			t.Fatal("device run --tam does not long-poll")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tam.mu.Lock()
	q, _ := url.ParseQuery(tam.pollQuery)
	tam.mu.Unlock()
	if want := agentThumbprint(t, d.dir); q.Get("device") != want || q.Get("wait") != "30s" {
		t.Fatalf("poll %v, want device %s", q, want)
	}

	out, e, code = teeup(t, "device", "teep", "--dir", d.dir, "--tam", tlsSrv.URL, "--tam-ca", ca, "--json")
	var doc updateDoc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Result != "done" || doc.Session == nil || doc.Session.Requests != 1 {
		t.Fatalf("device teep over TLS: exit %d\n%s%s", code, out, e)
	}
	if _, _, code = teeup(t, "device", "teep", "--dir", d.dir, "--tam", tlsSrv.URL); code == 0 {
		t.Fatal("device teep trusted a certificate it was not given")
	}
	if s, _ := tlsTAM.count(); s != 1 {
		t.Fatalf("the TLS TAM saw %d sessions, want 1 (an untrusted one never reaches it)", s)
	}
	if _, _, code = teeup(t, "device", "teep", "--dir", d.dir, "--tam", "ftp://tam.example"); code != 2 {
		t.Fatalf("device teep with an ftp URL: exit %d, want a usage error", code)
	}
}
