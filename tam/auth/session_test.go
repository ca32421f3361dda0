package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// login posts the login form and returns the response.
func (f *fixture) login(name, pass string, header http.Header) *http.Response {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"name": {name}, "password": {pass}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header[k] = v
	}
	return f.do(r)
}

// session logs the operator in and returns its cookie and CSRF token.
func (f *fixture) session(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	resp := f.login("operator", password, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("login set no session cookie")
	}
	// The dashboard renders the CSRF token into its forms from the
	// request's context; a handler behind the gate reads it here.
	var csrf string
	mux := http.NewServeMux()
	f.gate.Handle(mux, auth.RouteStatus, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		csrf = auth.CSRFToken(r.Context())
	}))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
	addCookie(r, cookie)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if csrf == "" {
		t.Fatalf("no CSRF token in a session's request (status %d)", w.Code)
	}
	return cookie, csrf
}

// TestSessionCookie: the login's cookie is __Host-, Secure, HttpOnly,
// SameSite=Strict, and the store keeps only its hash.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{})
	resp := f.login("operator", password, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	c := cs[0]
	if c.Name != "__Host-teeup-session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie %+v", c)
	}
	if _, err := f.st.LoginSession(context.Background(), []byte(c.Value)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the store holds the cookie itself: %v", err)
	}
}

// TestCSRF: a state-changing request made with the session cookie
// succeeds only with the session's CSRF token (header or form field),
// and never from another origin; a refused one changes nothing but
// leaves its refusal row.
func TestCSRF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header map[string]string
		form   string // csrf_token field: "" none, "good", or a value
		want   int
	}{
		{name: "no token", want: http.StatusForbidden},
		{name: "wrong header", header: map[string]string{auth.CSRFHeader: "AAAA"}, want: http.StatusForbidden},
		{name: "other session's token", header: map[string]string{auth.CSRFHeader: "other"}, want: http.StatusForbidden},
		{name: "good header", header: map[string]string{auth.CSRFHeader: "good"}, want: http.StatusCreated},
		{name: "good form field", form: "good", want: http.StatusCreated},
		{name: "good token, cross-site", header: map[string]string{auth.CSRFHeader: "good", "Sec-Fetch-Site": "cross-site"}, want: http.StatusForbidden},
		{name: "good token, other origin", header: map[string]string{auth.CSRFHeader: "good", "Origin": "https://evil.example"}, want: http.StatusForbidden},
		{name: "good token, own origin", header: map[string]string{auth.CSRFHeader: "good", "Origin": "https://tam.example"}, want: http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, auth.Config{})
			cookie, csrf := f.session(t)
			_, other := f.session(t)
			val := func(v string) string {
				switch v {
				case "good":
					return csrf
				case "other":
					return other
				}
				return v
			}
			// logout is the state-changing route a form posts; user.add
			// changes the store, so the refused cases prove nothing moved.
			var r *http.Request
			if tc.form != "" {
				r = httptest.NewRequest(http.MethodPost, "https://tam.example/logout", strings.NewReader(url.Values{auth.CSRFField: {val(tc.form)}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				r = httptest.NewRequest(http.MethodPost, "https://tam.example/api/v1/users", strings.NewReader(`{"name":"eve","roles":["operator"]}`))
			}
			addCookie(r, cookie)
			for k, v := range tc.header {
				r.Header.Set(k, val(v))
			}
			before := f.snapshot(t)
			resp := f.do(r)
			want := tc.want
			if tc.form != "" && want == http.StatusCreated {
				want = http.StatusSeeOther // logout's answer
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d", resp.StatusCode, want)
			}
			if want == http.StatusForbidden {
				rows := before.changedBesidesAudit(t, f.snapshot(t))
				if len(rows) != 1 || rows[0].Result != "refused: csrf" || rows[0].Principal != "operator" {
					t.Fatalf("refusal rows %+v", rows)
				}
			}
			if want == http.StatusCreated {
				if _, err := f.st.Principal(context.Background(), "eve"); err != nil {
					t.Fatalf("the allowed request did not add the user: %v", err)
				}
			}
		})
	}
}

// TestSessionLifecycle: a session expires after SessionLifetime, and a
// logout ends it at once.
func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	get := func(f *fixture, c *http.Cookie) int {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/audit", nil)
		addCookie(r, c)
		return f.do(r).StatusCode
	}
	f := newFixture(t, auth.Config{})
	c, csrf := f.session(t)
	if got := get(f, c); got != http.StatusOK {
		t.Fatalf("fresh session: %d", got)
	}
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	addCookie(r, c)
	r.Header.Set(auth.CSRFHeader, csrf)
	if resp := f.do(r); resp.StatusCode != http.StatusSeeOther || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout: %d %v", resp.StatusCode, resp.Cookies())
	}
	if got := get(f, c); got != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", got)
	}

	c, _ = f.session(t)
	f.clock.Advance(auth.SessionLifetime - time.Second)
	if got := get(f, c); got != http.StatusOK {
		t.Fatalf("session before expiry: %d", got)
	}
	f.clock.Advance(time.Second)
	if got := get(f, c); got != http.StatusUnauthorized {
		t.Fatalf("expired session: %d", got)
	}
}

// TestLogin: a wrong password, an unknown name, a principal without a
// login and a cross-site login post are refused with a refusal row, and
// open no session.
func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, pass string
		header           http.Header
		want             int
		result           string
	}{
		{name: "good", user: "operator", pass: password, want: http.StatusSeeOther, result: "ok"},
		{name: "wrong password", user: "operator", pass: password + "!", want: http.StatusUnauthorized, result: "refused: unauthenticated"},
		{name: "unknown name", user: "nobody", pass: password, want: http.StatusUnauthorized, result: "refused: unauthenticated"},
		{name: "no login", user: "nologin", pass: "", want: http.StatusBadRequest, result: "refused: bad_request"},
		{name: "no login, any password", user: "nologin", pass: password, want: http.StatusUnauthorized, result: "refused: unauthenticated"},
		{name: "cross-site", user: "operator", pass: password, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}, want: http.StatusForbidden, result: "refused: csrf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, auth.Config{})
			if err := f.st.AddPrincipal(context.Background(), store.Principal{Name: "nologin", Roles: []store.Role{store.RoleViewer}}); err != nil {
				t.Fatal(err)
			}
			before := f.snapshot(t)
			resp := f.login(tc.user, tc.pass, tc.header)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusSeeOther && len(resp.Cookies()) != 0 {
				t.Fatalf("a refused login set %v", resp.Cookies())
			}
			rows := before.changedBesidesAudit(t, f.snapshot(t))
			if len(rows) != 1 || rows[0].Action != auth.RouteLogin || rows[0].Result != tc.result {
				t.Fatalf("audit rows %+v, want one %q", rows, tc.result)
			}
		})
	}
}

// addCookie sends c back as a browser does: its name and value.
func addCookie(r *http.Request, c *http.Cookie) {
	r.Header.Add("Cookie", c.Name+"="+c.Value)
}
