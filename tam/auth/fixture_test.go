package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// openStore is a fresh sqlite store in t's temporary directory.
func openStore(t testing.TB) auth.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// authorKey is the public key (PKIX DER) of the fixture's authors: the
// gate only looks their names up.
var authorKey = func() []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{3}))
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return der
}()

// cheap argon2id costs: the tests hash passwords many times.
var cheap = auth.PasswordParams{Time: 1, Memory: 64, Threads: 1}

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The credentials of the route × role matrix: one principal per role,
// then the ways to be refused before any role is looked at.
const (
	credNone    = "no credentials"
	credExpired = "expired token"
	credRevoked = "revoked token"
	credUnknown = "unknown token"
	credBadForm = "malformed token"
)

var roleCreds = []store.Role{store.RoleOperator, store.RoleTAAuthor, store.RoleFirmwareAuthor, store.RoleViewer}

// fixture is a gate over a fresh store holding one principal per role
// (named after it), each with a token, and an operator "old" whose
// tokens expired or were revoked. Every route of auth.Routes is on mux:
// the gate's own handlers, and for the others' routes a handler that
// changes the store (it adds an author) on a state-changing request.
type fixture struct {
	st    auth.Store
	gate  *auth.Gate
	mux   *http.ServeMux
	clock *clock
	rand  *rand.ChaCha8
	// tokens are the tokens by credential name (a role, or a cred*).
	tokens map[string]string
	// spareID is a viewer token's id, for the revoke route to revoke.
	spareID string
}

const password = "correct horse battery staple"

func newFixture(t testing.TB, cfg auth.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: openStore(t), clock: &clock{t: t0}, rand: rand.NewChaCha8([32]byte{1}), tokens: map[string]string{}}
	cfg.Store, cfg.Now, cfg.Rand, cfg.Password = f.st, f.clock.Now, f.rand, cheap
	g, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.gate = g
	for _, a := range []string{"acme", "fwco"} {
		if err := f.st.AddAuthor(ctx, store.Author{Name: a, Kind: store.TAAuthor, Key: authorKey, Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := auth.HashPassword(password, cheap, f.rand)
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string, role store.Role, author string) {
		if err := f.st.AddPrincipal(ctx, store.Principal{Name: name, Roles: []store.Role{role}, Author: author, PasswordHash: hash, Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	add(string(store.RoleOperator), store.RoleOperator, "")
	add(string(store.RoleTAAuthor), store.RoleTAAuthor, "acme")
	add(string(store.RoleFirmwareAuthor), store.RoleFirmwareAuthor, "fwco")
	add(string(store.RoleViewer), store.RoleViewer, "")
	add("old", store.RoleOperator, "")
	for _, r := range roleCreds {
		_, f.tokens[string(r)] = f.addToken(t, string(r), 24*time.Hour)
	}
	_, f.tokens[credExpired] = f.addToken(t, "old", -time.Second)
	var revokedID string
	revokedID, f.tokens[credRevoked] = f.addToken(t, "old", time.Hour)
	if err := f.st.RevokeToken(ctx, revokedID, t0); err != nil {
		t.Fatal(err)
	}
	f.spareID, _ = f.addToken(t, string(store.RoleViewer), time.Hour)
	_, f.tokens[credUnknown], _, _ = auth.NewToken(f.rand)
	f.tokens[credBadForm] = "teeup_" + strings.Repeat("z", 16) + "_" + strings.Repeat("0", 64)

	f.mux = http.NewServeMux()
	g.Register(f.mux)
	for _, rt := range auth.Routes {
		if _, mine := gateRoutes[rt.Name]; mine {
			continue
		}
		g.Handle(f.mux, rt.Name, othersHandler(f.st, rt.Name))
	}
	return f
}

// gateRoutes are the routes the gate's Register puts on a mux.
var gateRoutes = map[string]bool{
	auth.RouteUserAdd: true, auth.RouteTokenCreate: true, auth.RouteTokenRevoke: true, auth.RouteAudit: true,
	auth.RouteLoginPage: true, auth.RouteLogin: true, auth.RouteLogout: true,
}

// othersHandler stands for another engineer's handler behind the gate: it
// changes the store on a state-changing request, as theirs do, and says
// that it ran.
func othersHandler(st auth.Store, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if err := st.AddAuthor(r.Context(), store.Author{Name: "by-" + name, Kind: store.TAAuthor, Key: authorKey, Created: t0}); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("X-Handler", name)
		w.WriteHeader(http.StatusOK)
	})
}

// addToken stores a token for principal expiring life after t0.
func (f *fixture) addToken(t testing.TB, principal string, life time.Duration) (id, tok string) {
	t.Helper()
	id, tok, hash, err := auth.NewToken(f.rand)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddToken(context.Background(), store.Token{ID: id, Principal: principal, Hash: hash, Created: t0, Expires: t0.Add(life)}); err != nil {
		t.Fatal(err)
	}
	return id, tok
}

// do serves r and returns the response.
func (f *fixture) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, r)
	return w.Result()
}

// snapshot is everything the store holds that a request could change
// (login sessions aside: only a login makes one).
type snapshot struct {
	principals []store.Principal
	tokens     []store.Token
	authors    []store.Author
	audit      []store.AuditEntry
}

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.principals, err = f.st.ListPrincipals(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.principals {
		ts, err := f.st.ListTokens(ctx, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens = append(s.tokens, ts...)
	}
	if s.authors, err = f.st.ListAuthors(ctx); err != nil {
		t.Fatal(err)
	}
	if s.audit, err = f.st.ListAudit(ctx, 0, auth.MaxAuditPage); err != nil {
		t.Fatal(err)
	}
	return s
}

// changedBesidesAudit fails t if after differs from s in anything but
// rows appended to the audit trail, and returns those rows.
func (s snapshot) changedBesidesAudit(t *testing.T, after snapshot) []store.AuditEntry {
	t.Helper()
	if !reflect.DeepEqual(s.principals, after.principals) {
		t.Errorf("principals changed:\nbefore %+v\nafter  %+v", s.principals, after.principals)
	}
	if !reflect.DeepEqual(s.tokens, after.tokens) {
		t.Errorf("tokens changed:\nbefore %+v\nafter  %+v", s.tokens, after.tokens)
	}
	if !reflect.DeepEqual(s.authors, after.authors) {
		t.Errorf("authors changed:\nbefore %+v\nafter  %+v", s.authors, after.authors)
	}
	if len(after.audit) < len(s.audit) || !reflect.DeepEqual(s.audit, after.audit[:len(s.audit):len(s.audit)]) && len(s.audit) > 0 {
		t.Errorf("audit rows changed:\nbefore %+v\nafter  %+v", s.audit, after.audit)
	}
	if t.Failed() {
		t.FailNow()
	}
	return after.audit[len(s.audit):]
}
