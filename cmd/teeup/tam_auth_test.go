package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// authTAM is a TAM's gate over HTTPS with its self-signed certificate, a
// fresh store and a first operator: the URL, the certificate's file and
// the operator's token.
func authTAM(t *testing.T) (url, caFile, token string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr, err := auth.InitAdmin(ctx, st, "admin2", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.New(auth.Config{Store: st, Password: auth.PasswordParams{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Register(mux)
	cert, _, err := auth.LoadOrCreateSelfSigned(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = auth.ServerTLS(cert)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, filepath.Join(dir, auth.SelfSignedCert), tr.Token
}

// TestTAMAuthCLI: teeup tam user add, token create (printed once),
// token revoke and audit, through the API over TLS trusted by --tam-ca;
// a revoked token is refused; without --tam-ca the TAM is not trusted.
func TestTAMAuthCLI(t *testing.T) {
	t.Parallel()
	url, ca, admin := authTAM(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("a password long enough\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--tam", url, "--tam-ca", ca, "--token", admin}
	tam := func(args ...string) (string, string, int) {
		t.Helper()
		return teeup(t, append(append([]string{"tam"}, args...), conn...)...)
	}
	if out, errOut, code := tam("user", "add", "carol", "--role", "operator", "--role", "viewer", "--password-file", pw); code != 0 || out != "user carol: operator, viewer\n" {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	out, errOut, code := tam("token", "create", "--user", "carol", "--expires", "1h")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	carol := strings.TrimSpace(out)
	id, _, err := auth.ParseToken(carol)
	if err != nil || !strings.Contains(errOut, "token "+id+" for carol") {
		t.Fatalf("token create printed %q / %q: %v", out, errOut, err)
	}
	if _, errOut, code := teeup(t, "tam", "audit", "--tam", url, "--tam-ca", ca, "--token", carol); code != 0 {
		t.Fatalf("audit with carol's token: %d %s", code, errOut)
	}
	if out, errOut, code := tam("token", "revoke", id); code != 0 || !strings.HasPrefix(out, "token "+id+" revoked at ") {
		t.Fatalf("token revoke: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := teeup(t, "tam", "audit", "--tam", url, "--tam-ca", ca, "--token", carol); code != exitFailure || !strings.Contains(errOut, "401") {
		t.Fatalf("audit with a revoked token: %d %s", code, errOut)
	}
	if _, errOut, code := teeup(t, "tam", "audit", "--tam", url, "--token", admin); code != exitFailure || !strings.Contains(errOut, "certificate") {
		t.Fatalf("audit without --tam-ca: %d %s", code, errOut)
	}
	if _, _, code := tam("user", "add", "dave"); code != exitUsage {
		t.Fatalf("user add without a role: exit %d", code)
	}

	out, errOut, code = tam("audit", "--json")
	if code != 0 {
		t.Fatalf("audit --json: %d %s", code, errOut)
	}
	var page auth.AuditPage
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Principal+" "+e.Action+" "+e.Target+" "+e.Result)
	}
	want := []string{
		" init-admin admin2 ok",
		"admin2 user.add carol ok",
		"admin2 token.create carol ok",
		"admin2 token.revoke " + id + " ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, _, _ = tam("audit")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "SEQ") {
		t.Fatalf("audit table:\n%s", out)
	}
}
