package tam

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// sessionStore is the one part of a store an empty POST to /tam uses;
// the rest of store.Store is nil (calling it panics).
type sessionStore struct {
	store.Store
	mu       sync.Mutex
	sessions []store.Session
}

func (s *sessionStore) CreateSession(_ context.Context, sess store.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, sess)
	return nil
}

func newServer(t *testing.T, cfg Config) (*Server, *sessionStore) {
	t.Helper()
	key, _, err := LoadOrCreateKey(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	st := &sessionStore{}
	cfg.Store, cfg.Key, cfg.BaseURL = st, key, "https://tam.example:8443/"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
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

// The route table: the TEEP endpoint, the public key without
// credentials, and an operator route closed when no gate is set, open
// through the gate when one is.
func TestRoutes(t *testing.T) {
	t.Parallel()
	s, st := newServer(t, Config{})
	s.api("GET /api/v1/probe", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	rsp, err := http.Post(srv.URL+"/tam", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	pub, _ := suit.NewPublicKey(&s.cfg.Key.PublicKey)
	if _, err := teep.Open(body, []*suit.Key{pub}, teep.Draft26); rsp.StatusCode != http.StatusOK || err != nil || len(st.sessions) != 1 {
		t.Fatalf("POST /tam: %s, %v, %d sessions; want a signed QueryRequest and its session", rsp.Status, err, len(st.sessions))
	}

	rsp, err = http.Get(srv.URL + "/api/v1/tam-key")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(rsp.Body)
	rsp.Body.Close()
	k, err := suit.ParsePublicKeyPEM(body)
	if rsp.StatusCode != http.StatusOK || err != nil || !k.Public.(*ecdsa.PublicKey).Equal(&s.cfg.Key.PublicKey) {
		t.Fatalf("GET /api/v1/tam-key: %s, %v; want the TAM's public key", rsp.Status, err)
	}

	if rsp, err := http.Get(srv.URL + "/api/v1/probe"); err != nil || rsp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an operator route without a gate: %v %v, want 401", rsp.Status, err)
	}
	gated, _ := newServer(t, Config{Gate: func(h http.Handler) http.Handler { return h }})
	gated.api("GET /api/v1/probe", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec := httptest.NewRecorder()
	gated.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/probe", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("an operator route through the gate: %d, want the handler's 418", rec.Code)
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
	for _, cfg := range []Config{
		{Key: key, BaseURL: "https://tam.example"},
		{Store: &sessionStore{}, BaseURL: "https://tam.example"},
		{Store: &sessionStore{}, Key: key, BaseURL: "tam.example"},
		{Store: &sessionStore{}, Key: key, BaseURL: "https://tam.example", Numbering: 7},
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
