package tam

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store/sqlite"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	dir := t.TempDir()
	key, _, err := LoadOrCreateKey(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, Key: key, BaseURL: "https://tam.example:8443/"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The key is made once, 0600, and read back the same; a key file others
// may read, or one that holds no P-256 key, is refused.
func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), KeyFile)
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("second start: created %v, same key %v, %v", created, k1.Equal(k2), err)
	}
	// The file is the format the rest of teeup reads keys in.
	if sk, err := suit.ParseSigningKeyPEM(mustRead(t, path)); err != nil || sk.Alg != teep.AlgESP256 {
		t.Fatalf("suit reads the key file as %v, %v; want ESP256", sk, err)
	}

	dir := t.TempDir()
	bad := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"readable by others", mustRead(t, path), 0o644},
		{"not PEM", []byte("key"), 0o600},
		{"a public key", pemOf(t, "PUBLIC KEY", mustPKIX(t, &k1.PublicKey)), 0o600},
	}
	for _, c := range bad {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.mode); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateKey(p); !errors.Is(err, ErrKeyFile) {
			t.Errorf("%s: %v, want ErrKeyFile", c.name, err)
		}
	}
}

// The route table: the TEEP endpoint and the public key without
// credentials; an operator route only with an operator's token.
func TestRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	get := func(path, token string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		body, _ := io.ReadAll(rsp.Body)
		return rsp, body
	}

	rsp, err := http.Post(srv.URL+"/tam", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	pub, _ := suit.NewPublicKey(&s.cfg.Key.PublicKey)
	signed, err := teep.Open(body, []*suit.Key{pub}, teep.Draft26)
	if rsp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("POST /tam: %s, %v; want a signed QueryRequest", rsp.Status, err)
	}
	if _, err := s.cfg.Store.Session(context.Background(), signed.Message.(*teep.QueryRequest).Token); err != nil {
		t.Fatalf("the session of the QueryRequest: %v", err)
	}

	rsp, body = get("/api/v1/tam-key", "")
	k, err := suit.ParsePublicKeyPEM(body)
	if rsp.StatusCode != http.StatusOK || err != nil || !k.Public.(*ecdsa.PublicKey).Equal(&s.cfg.Key.PublicKey) {
		t.Fatalf("GET /api/v1/tam-key: %s, %v; want the TAM's public key", rsp.Status, err)
	}

	if rsp, _ := get("/api/v1/audit", ""); rsp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an operator route without credentials: %s, want 401", rsp.Status)
	}
	admin, err := auth.InitAdmin(context.Background(), s.cfg.Store, "admin", time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if rsp, _ := get("/api/v1/audit", admin.Token); rsp.StatusCode != http.StatusOK {
		t.Fatalf("an operator route with an operator's token: %s, want 200", rsp.Status)
	}
	if got := s.PayloadURL([]byte{0xab, 0xcd}); got != "https://tam.example:8443/payloads/abcd" {
		t.Fatalf("payload URL %s", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	key, _, err := LoadOrCreateKey(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	st := newServer(t).cfg.Store
	for _, cfg := range []Config{
		{Key: key, BaseURL: "https://tam.example"},
		{Store: st, BaseURL: "https://tam.example"},
		{Store: st, Key: key, BaseURL: "tam.example"},
		{Store: st, Key: key, BaseURL: "https://tam.example", Numbering: 7},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v, want ErrConfig", cfg, err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPKIX(t *testing.T, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
