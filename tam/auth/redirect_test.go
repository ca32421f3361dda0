package auth_test

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/auth"
)

// browserAccept is what a browser sends opening a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestLocalPath: only a path on this TAM is a next; every way a browser
// would read one as another host is refused.
func TestLocalPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		next string
		want error
	}{
		{"/", nil},
		{"/dashboard/devices/ab12", nil},
		{"/dashboard/rollouts/ro-1?tab=waves#errors", nil},
		{"/%2F%2Fevil.example", nil}, // a path segment of this TAM
		{"", auth.ErrNotLocal},
		{"dashboard", auth.ErrNotLocal},
		{"https://evil.example/", auth.ErrNotLocal},
		{"http:evil.example", auth.ErrNotLocal},
		{"//evil.example/x", auth.ErrNotLocal},
		{"///evil.example", auth.ErrNotLocal},
		{"/\\evil.example", auth.ErrNotLocal},
		{"\\\\evil.example", auth.ErrNotLocal},
		{"/\t/evil.example", auth.ErrNotLocal},
		{"/\n/evil.example", auth.ErrNotLocal},
		{"javascript:alert(1)", auth.ErrNotLocal},
		{"/" + strings.Repeat("a", auth.MaxNextLen), auth.ErrNotLocal},
	} {
		if err := auth.LocalPath(tc.next); !errors.Is(err, tc.want) {
			t.Errorf("LocalPath(%q) = %v, want %v", tc.next, err, tc.want)
		}
	}
}

// TestBrowserGoesToLogin: a browser opening a dashboard page without a
// live login is sent to the login page (303) with the page as next; an
// API client, a state change, an API route, /metrics, or a request with
// a bearer token keeps its 401.
func TestBrowserGoesToLogin(t *testing.T) {
	t.Parallel()
	device := "/dashboard/devices/" + strings.Repeat("ab", 32) + "?reports=5"
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		cookie             string
		want               int
		next               string
	}{
		{name: "the fleet page", method: "GET", path: "/", header: http.Header{"Accept": {browserAccept}}, want: 303, next: "/"},
		{name: "a device page", method: "GET", path: device, header: http.Header{"Accept": {browserAccept}}, want: 303, next: device},
		{name: "a rollout page, HEAD", method: "HEAD", path: "/dashboard/rollouts/ro-1", header: http.Header{"Accept": {"text/html"}}, want: 303, next: "/dashboard/rollouts/ro-1"},
		{name: "an unknown session", method: "GET", path: "/", header: http.Header{"Accept": {browserAccept}}, cookie: "forged", want: 303, next: "/"},
		{name: "a page asked as JSON", method: "GET", path: "/", header: http.Header{"Accept": {"application/json"}}, want: 401},
		{name: "a page asked with no Accept", method: "GET", path: "/", want: 401},
		{name: "a page asked as anything", method: "GET", path: "/", header: http.Header{"Accept": {"*/*"}}, want: 401},
		{name: "HTML not acceptable", method: "GET", path: "/", header: http.Header{"Accept": {"text/html;q=0, application/json"}}, want: 401},
		{name: "a bad bearer token", method: "GET", path: "/", header: http.Header{"Accept": {browserAccept}, "Authorization": {"Bearer teeup_x_y"}}, want: 401},
		{name: "an API route", method: "GET", path: "/api/v1/status", header: http.Header{"Accept": {browserAccept}}, want: 401},
		{name: "metrics", method: "GET", path: "/metrics", header: http.Header{"Accept": {browserAccept}}, want: 401},
		{name: "a dashboard asset", method: "GET", path: "/dashboard/assets/style.css", header: http.Header{"Accept": {browserAccept}}, want: 401},
		{name: "a dashboard button", method: "POST", path: "/dashboard/rollouts/ro-1/pause", header: http.Header{"Accept": {browserAccept}}, want: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, auth.Config{})
			before := f.snapshot(t)
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			if tc.cookie != "" {
				r.Header.Add("Cookie", auth.SessionCookie+"="+tc.cookie)
			}
			resp := f.do(r)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("X-Handler") != "" {
				t.Fatal("the handler ran")
			}
			if tc.want == http.StatusSeeOther {
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || loc.Path != "/login" || loc.Host != "" || loc.Query().Get(auth.NextParam) != tc.next {
					t.Fatalf("Location %q, want /login with next %q", resp.Header.Get("Location"), tc.next)
				}
			} else if resp.Header.Get("Location") != "" || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("a 401 with Location %q, Content-Type %q", resp.Header.Get("Location"), resp.Header.Get("Content-Type"))
			}
			if rows := before.changedBesidesAudit(t, f.snapshot(t)); len(rows) > 1 || len(rows) == 1 && tc.method != "POST" {
				t.Fatalf("audit rows %+v", rows)
			}
		})
	}
}

// loginWith posts the login form with next.
func (f *fixture) loginWith(name, pass, next string) *http.Response {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"name": {name}, "password": {pass}, auth.NextParam: {next}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(r)
}

// TestLoginReturnsToThePage: the browser sent to the login comes back to
// its page once logged in; a next elsewhere is never followed: the login
// page drops it from its form, and a form that carries one is refused
// with no session opened.
func TestLoginReturnsToThePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{})
	page := "/dashboard/devices/" + strings.Repeat("cd", 32)
	r := httptest.NewRequest(http.MethodGet, page, nil)
	r.Header.Set("Accept", browserAccept)
	toLogin := f.do(r).Header.Get("Location")
	form := f.do(httptest.NewRequest(http.MethodGet, toLogin, nil))
	body, _ := io.ReadAll(form.Body)
	if form.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="next" value="`+html.EscapeString(page)+`"`) {
		t.Fatalf("login page %d, want a form returning to %s:\n%s", form.StatusCode, page, body)
	}
	resp := f.loginWith("operator", password, page)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page || len(resp.Cookies()) == 0 {
		t.Fatalf("login: %d to %q, cookies %v; want 303 to %s with a session", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies(), page)
	}
	back := httptest.NewRequest(http.MethodGet, page, nil)
	back.Header.Set("Accept", browserAccept)
	addCookie(back, resp.Cookies()[0])
	if got := f.do(back); got.StatusCode != http.StatusOK || got.Header.Get("X-Handler") != auth.RouteDashboardDevice {
		t.Fatalf("the page once logged in: %d", got.StatusCode)
	}
	if resp := f.loginWith("operator", password, ""); resp.Header.Get("Location") != "/" {
		t.Fatalf("a login without next goes to %q, want /", resp.Header.Get("Location"))
	}

	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		form := f.do(httptest.NewRequest(http.MethodGet, "/login?"+url.Values{auth.NextParam: {next}}.Encode(), nil))
		body, _ := io.ReadAll(form.Body)
		if form.StatusCode != http.StatusOK || strings.Contains(string(body), `name="next"`) || strings.Contains(string(body), "evil") {
			t.Errorf("login page with next %q: %d, the form keeps it:\n%s", next, form.StatusCode, body)
		}
		before := f.snapshot(t)
		resp := f.loginWith("operator", password, next)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || len(resp.Cookies()) != 0 {
			t.Errorf("login with next %q: %d to %q, cookies %v; want 400, no redirect, no session", next, resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
		}
		if rows := before.changedBesidesAudit(t, f.snapshot(t)); len(rows) != 1 || rows[0].Result != "refused: bad_request" {
			t.Errorf("login with next %q: audit rows %+v", next, rows)
		}
	}
}
