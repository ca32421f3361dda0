package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// api makes an API request with a bearer token and decodes a 2xx JSON
// answer into out.
func (f *fixture) api(t *testing.T, tok, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp := f.do(r)
	if resp.StatusCode < 300 && out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// TestTokenLifecycle: an operator makes a user and a token for it; the
// token works until it is revoked or expires; revoking twice is a
// conflict; the audit trail holds one row per change, naming the token.
func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{})
	op := f.tokens[string(store.RoleOperator)]
	if got := f.api(t, op, "POST", "/api/v1/users", `{"name":"carol","roles":["viewer","operator"]}`, nil); got != http.StatusCreated {
		t.Fatalf("user add: %d", got)
	}
	var tr auth.TokenResponse
	if got := f.api(t, op, "POST", "/api/v1/tokens", `{"user":"carol","expires_in":"2h"}`, &tr); got != http.StatusCreated {
		t.Fatalf("token create: %d", got)
	}
	if tr.User != "carol" || !tr.Expires.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("token %+v", tr)
	}
	ts, err := f.st.ListTokens(context.Background(), "carol")
	if err != nil || len(ts) != 1 || strings.Contains(string(ts[0].Hash), tr.Token) {
		t.Fatalf("stored tokens %+v, %v", ts, err)
	}
	if got := f.api(t, tr.Token, "GET", "/api/v1/audit", "", nil); got != http.StatusOK {
		t.Fatalf("new token: %d", got)
	}
	if got := f.api(t, op, "POST", "/api/v1/tokens/"+tr.ID+"/revoke", "", nil); got != http.StatusOK {
		t.Fatalf("revoke: %d", got)
	}
	if got := f.api(t, tr.Token, "GET", "/api/v1/audit", "", nil); got != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", got)
	}
	if got := f.api(t, op, "POST", "/api/v1/tokens/"+tr.ID+"/revoke", "", nil); got != http.StatusConflict {
		t.Fatalf("revoke twice: %d", got)
	}
	if got := f.api(t, op, "POST", "/api/v1/tokens/0000000000000000/revoke", "", nil); got != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", got)
	}

	var tr2 auth.TokenResponse
	f.api(t, op, "POST", "/api/v1/tokens", `{"user":"carol","expires_in":"1h"}`, &tr2)
	f.clock.Advance(time.Hour - time.Nanosecond)
	if got := f.api(t, tr2.Token, "GET", "/api/v1/audit", "", nil); got != http.StatusOK {
		t.Fatalf("token before expiry: %d", got)
	}
	f.clock.Advance(time.Nanosecond)
	if got := f.api(t, tr2.Token, "GET", "/api/v1/audit", "", nil); got != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", got)
	}

	var page auth.AuditPage
	if got := f.api(t, op, "GET", "/api/v1/audit", "", &page); got != http.StatusOK {
		t.Fatalf("audit: %d", got)
	}
	type row struct{ principal, action, target, result string }
	want := []row{
		{"operator", auth.RouteUserAdd, "carol", "ok"},
		{"operator", auth.RouteTokenCreate, "carol", "ok"},
		{"operator", auth.RouteTokenRevoke, tr.ID, "ok"},
		{"operator", auth.RouteTokenRevoke, tr.ID, "failed: 409 conflict"},
		{"operator", auth.RouteTokenRevoke, "0000000000000000", "failed: 404 not_found"},
		{"operator", auth.RouteTokenCreate, "carol", "ok"},
	}
	if len(page.Entries) != len(want) {
		t.Fatalf("audit %+v", page.Entries)
	}
	for i, e := range page.Entries {
		if got := (row{e.Principal, e.Action, e.Target, e.Result}); got != want[i] || e.Seq != int64(i+1) {
			t.Errorf("row %d: %+v, want %+v", i, e, want[i])
		}
	}
	if !strings.Contains(page.Entries[1].Detail, tr.ID) || strings.Contains(page.Entries[1].Detail, tr.Token) {
		t.Errorf("token.create's detail %q: want the id, never the token", page.Entries[1].Detail)
	}
	var after auth.AuditPage
	f.api(t, op, "GET", "/api/v1/audit?after=4&limit=1", "", &after)
	if len(after.Entries) != 1 || after.Entries[0].Seq != 5 {
		t.Errorf("audit after 4, limit 1: %+v", after.Entries)
	}
}

// TestBadRequests: the gate's handlers refuse bad input with 400, 404,
// 409 or 413 and store nothing.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"no role", "POST", "/api/v1/users", `{"name":"x","roles":[]}`, 400},
		{"unknown role", "POST", "/api/v1/users", `{"name":"x","roles":["root"]}`, 400},
		{"role twice", "POST", "/api/v1/users", `{"name":"x","roles":["viewer","viewer"]}`, 400},
		{"author role without author", "POST", "/api/v1/users", `{"name":"x","roles":["ta-author"]}`, 400},
		{"author without author role", "POST", "/api/v1/users", `{"name":"x","roles":["viewer"],"author":"acme"}`, 400},
		{"unknown author", "POST", "/api/v1/users", `{"name":"x","roles":["ta-author"],"author":"nobody"}`, 404},
		{"bad name", "POST", "/api/v1/users", `{"name":"X Y","roles":["viewer"]}`, 400},
		{"short password", "POST", "/api/v1/users", `{"name":"x","roles":["viewer"],"password":"short"}`, 400},
		{"user exists", "POST", "/api/v1/users", `{"name":"viewer","roles":["viewer"]}`, 409},
		{"unknown field", "POST", "/api/v1/users", `{"name":"x","roles":["viewer"],"admin":true}`, 400},
		{"two documents", "POST", "/api/v1/users", `{"name":"x","roles":["viewer"]}{}`, 400},
		{"too large", "POST", "/api/v1/users", `{"name":"` + strings.Repeat("x", auth.MaxJSONBody) + `"}`, 413},
		{"token for nobody", "POST", "/api/v1/tokens", `{"user":"nobody"}`, 404},
		{"token forever", "POST", "/api/v1/tokens", `{"user":"viewer","expires_in":"87600h"}`, 400},
		{"token negative", "POST", "/api/v1/tokens", `{"user":"viewer","expires_in":"-1h"}`, 400},
		{"audit after -1", "GET", "/api/v1/audit?after=-1", "", 400},
		{"audit limit 0", "GET", "/api/v1/audit?limit=0", "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, auth.Config{})
			before := f.snapshot(t)
			if got := f.api(t, f.tokens[string(store.RoleOperator)], tc.method, tc.path, tc.body, nil); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			before.changedBesidesAudit(t, f.snapshot(t))
		})
	}
}

// TestInitAdmin: the first operator and its token; a second call
// changes nothing.
func TestInitAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	rnd := newFixture(t, auth.Config{}).rand
	if _, err := auth.InitAdmin(ctx, st, "admin", t0, strings.NewReader("short")); err == nil {
		t.Fatal("a token drawn from 5 bytes")
	}
	if ps, _ := st.ListPrincipals(ctx); len(ps) != 0 {
		t.Fatalf("a failed init left %+v", ps)
	}
	tr, err := auth.InitAdmin(ctx, st, "admin", t0, rnd)
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.New(auth.Config{Store: st, Now: func() time.Time { return t0 }, Password: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Register(mux)
	r := httptest.NewRequest("POST", "/api/v1/users", strings.NewReader(`{"name":"bob","roles":["viewer"]}`))
	r.Header.Set("Authorization", "Bearer "+tr.Token)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusCreated {
		t.Fatalf("the bootstrap token: %d %s", w.Code, w.Body)
	}
	if _, err := auth.InitAdmin(ctx, st, "admin2", t0, rnd); !errors.Is(err, auth.ErrOperatorExists) {
		t.Fatalf("second init: %v", err)
	}
	if _, err := st.Principal(ctx, "admin2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second init made a principal: %v", err)
	}
}
