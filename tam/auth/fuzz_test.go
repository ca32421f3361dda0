package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// FuzzParseToken: no token parses unless it is exactly our format, and
// one that parses re-forms byte-identical from its parts.
func FuzzParseToken(f *testing.F) {
	_, good, _, _ := auth.NewToken(strings.NewReader(strings.Repeat("k", 64)))
	for _, s := range []string{good, "", "teeup_", "teeup__", good + "_", strings.ToUpper(good), "Bearer " + good, good[:len(good)-1]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := auth.ParseToken(s)
		if err != nil {
			if !errors.Is(err, auth.ErrMalformedToken) || !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("error %v is not ErrMalformedToken", err)
			}
			return
		}
		if "teeup_"+id+"_"+secret != s || len(id) != 16 || len(secret) != 64 {
			t.Fatalf("%q parsed as %q %q", s, id, secret)
		}
	})
}

// FuzzLoginForm: a login form parses into one bounded name and password
// or is refused with ErrLoginForm; never a panic.
func FuzzLoginForm(f *testing.F) {
	for _, s := range []string{"name=operator&password=x", "name=a&name=b&password=x", "name=%zz", "password=x", "name=A&password=x",
		"name=op&password=" + strings.Repeat("p", auth.MaxPasswordLen+1), "name=op&password=x&csrf_token=y", "",
		"name=op&password=x&next=%2Fdashboard%2Fdevices%2Fab", "name=op&password=x&next=%2F%2Fevil.example",
		"name=op&password=x&next=https%3A%2F%2Fevil.example%2F", "name=op&password=x&next=%2F%5Cevil.example", "name=op&password=x&next=%2F&next=%2F"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := auth.ParseLoginForm(strings.NewReader(string(body)))
		if err != nil {
			if !errors.Is(err, auth.ErrLoginForm) {
				t.Fatalf("error %v is not ErrLoginForm", err)
			}
			return
		}
		if form.Name == "" || len(form.Name) > auth.MaxNameLen || form.Password == "" || len(form.Password) > auth.MaxPasswordLen ||
			form.Next != "" && auth.LocalPath(form.Next) != nil {
			t.Fatalf("accepted %+v", form)
		}
		if u, err := url.Parse(form.Next); form.Next != "" && (err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(form.Next, "//")) {
			t.Fatalf("accepted a next to another host: %q", form.Next)
		}
	})
}

// FuzzGateCredentials: whatever Authorization header or session cookie a
// request carries, the gate lets it through only with a stored, live
// token or session, and a refusal is 401.
func FuzzGateCredentials(f *testing.F) {
	// Failed attempts are not throttled here: the fixed clock would
	// otherwise refill no bucket, and throttling has its own test.
	fx := newFixture(f, auth.Config{FailureRate: auth.Rate{Per: rate.Inf, Burst: 1}})
	good := fx.tokens[string(store.RoleOperator)]
	for _, s := range []string{"Bearer " + good, "bearer " + good, "Bearer " + fx.tokens[credRevoked], "Basic b3A6cA==", "Bearer", "Bearer  " + good, good} {
		f.Add(s, "")
	}
	f.Add("", "AAAA")
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/audit", nil)
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if cookie != "" {
			r.Header["Cookie"] = []string{auth.SessionCookie + "=" + cookie}
		}
		w := httptest.NewRecorder()
		fx.mux.ServeHTTP(w, r)
		allowed := authz == "Bearer "+good || strings.EqualFold(authz, "bearer "+good) && authz[7:] == good
		switch {
		case allowed && w.Code != http.StatusOK:
			t.Fatalf("%q: %d", authz, w.Code)
		case !allowed && w.Code != http.StatusUnauthorized:
			t.Fatalf("%q / %q: %d", authz, cookie, w.Code)
		}
	})
}

// FuzzLocalPath: a next LocalPath accepts stays on the TAM's host as a
// browser resolves it, and so does the Location the login writes for it
// (http.Redirect cleans the path), which holds no backslash a browser
// would read as a slash.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/dashboard/devices/ab?x=1#y", "//evil.example", "/\\evil.example", "/..//evil.example",
		"/.//evil.example", "https://evil.example", "/%2F%2Fevil.example", "/\t/evil.example", "/a/../../evil"} {
		f.Add(s)
	}
	base, err := url.Parse("https://tam.example/login")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		if auth.LocalPath(next) != nil {
			return
		}
		w := httptest.NewRecorder()
		http.Redirect(w, httptest.NewRequest(http.MethodPost, "/login", nil), next, http.StatusSeeOther)
		loc := w.Header().Get("Location")
		for _, s := range []string{next, loc} {
			u, err := base.Parse(s)
			if err != nil || u.Scheme != "https" || u.Host != "tam.example" || strings.ContainsRune(s, '\\') || strings.HasPrefix(s, "//") {
				t.Fatalf("next %q (Location %q) leaves the TAM: %v %v", next, loc, u, err)
			}
		}
	})
}
