package auth_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
)

// TestSelfSigned: the certificate is made once, kept across restarts
// (same fingerprint), its key is 0600, a client trusting it by --tam-ca
// connects, and a client that does not trust it is refused; an expired
// one is replaced.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now() // the TLS handshake checks validity against the real clock
	cert, created, err := auth.LoadOrCreateSelfSigned(dir, []string{"tam.example", "192.0.2.7"}, now)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	again, created, err := auth.LoadOrCreateSelfSigned(dir, nil, now)
	if err != nil || created || auth.Fingerprint(again) != auth.Fingerprint(cert) {
		t.Fatalf("restart: created %v, %v, %s vs %s", created, err, auth.Fingerprint(again), auth.Fingerprint(cert))
	}
	fi, err := os.Stat(filepath.Join(dir, auth.SelfSignedKey))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	if len(auth.Fingerprint(cert)) != 32*3-1 {
		t.Fatalf("fingerprint %q", auth.Fingerprint(cert))
	}
	if got := cert.Leaf.DNSNames; len(got) != 2 || got[1] != "tam.example" {
		t.Fatalf("DNS names %v", got)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	srv.TLS = auth.ServerTLS(cert)
	srv.StartTLS()
	defer srv.Close()

	caPEM, err := os.ReadFile(filepath.Join(dir, auth.SelfSignedCert))
	if err != nil {
		t.Fatal(err)
	}
	trusting, err := auth.ClientTLS(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: trusting}}).Get(srv.URL)
	if err != nil {
		t.Fatalf("client trusting the certificate: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}).Get(srv.URL); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
	if _, err := auth.ClientTLS([]byte("not pem")); !errors.Is(err, auth.ErrNoCA) {
		t.Fatalf("bad CA file: %v", err)
	}

	renewed, created, err := auth.LoadOrCreateSelfSigned(dir, nil, now.Add(3*365*24*time.Hour))
	if err != nil || !created || auth.Fingerprint(renewed) == auth.Fingerprint(cert) {
		t.Fatalf("expired: created %v, %v", created, err)
	}
}
