package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/auth"
)

// TestTAMServeInitAdmin: teeup tam serve --init-admin makes the first
// operator and writes its token to a 0600 file; the operator commands
// reach the TAM over TLS trusting its self-signed certificate (whose
// printed fingerprint is the certificate's); a restart with --init-admin
// makes nobody and the token still works.
func TestTAMServeInitAdmin(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "tam")
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	p := startTAM(t, "--data", data, "--listen", "127.0.0.1:0", "--init-admin", "admin", "--init-admin-token-file", tokenFile)
	if !strings.HasPrefix(p.url, "https://") || strings.Contains(p.out.String(), "teeup_") {
		t.Fatalf("serve printed %q: want HTTPS, and the token in the file only", p.out.String())
	}
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	token := strings.TrimSpace(string(mustReadFile(t, tokenFile)))
	if _, _, err := auth.ParseToken(token); err != nil {
		t.Fatalf("token file holds %q: %v", token, err)
	}
	ca := filepath.Join(data, auth.SelfSignedCert)
	cert, err := tls.LoadX509KeyPair(ca, filepath.Join(data, auth.SelfSignedKey))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.out.String(), auth.Fingerprint(cert)) {
		t.Fatalf("serve printed %q, not the certificate's fingerprint %s", p.out.String(), auth.Fingerprint(cert))
	}

	conn := []string{"--tam", p.url, "--tam-ca", ca, "--token", token}
	if out, errOut, code := teeup(t, append([]string{"tam", "user", "add", "ci", "--role", "viewer"}, conn...)...); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := teeup(t, append([]string{"tam", "user", "add", "ci2", "--role", "viewer"}, "--tam", p.url, "--token", token)...); code != exitFailure || !strings.Contains(errOut, "certificate") {
		t.Fatalf("without --tam-ca: %d %s", code, errOut)
	}
	p.stop(t)

	p = startTAM(t, "--data", data, "--listen", "127.0.0.1:0", "--init-admin", "admin2")
	if !strings.Contains(p.out.String(), "no token made") || strings.Contains(p.out.String(), "teeup_") {
		t.Fatalf("second --init-admin printed %q", p.out.String())
	}
	conn[1] = p.url
	out, errOut, code := teeup(t, append([]string{"tam", "audit"}, conn...)...)
	if code != 0 || !strings.Contains(out, "init-admin") || !strings.Contains(out, "user.add") || strings.Contains(out, "admin2") {
		t.Fatalf("audit after a restart: %d\n%s%s", code, out, errOut)
	}
	p.stop(t)
}
