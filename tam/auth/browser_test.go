package auth_test

import (
	"context"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// chromiumPath is the headless browser of TestCSRFInChromium: Debian's
// chromium (.ci/run installs it). Without one the test is skipped, except
// under CI, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("TEEUP_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no chromium on the PATH: .ci/run installs it")
	}
	t.Skip("no chromium on the PATH (apt-get install chromium)")
	return ""
}

// dashboard stands for the dashboard of issue 15: a page behind the gate
// with one state-changing form (log out) carrying the session's CSRF
// token, as every dashboard form must.
var dashboard = template.Must(template.New("d").Parse(`<!doctype html>
<html><body><h1 id="dashboard">TAM dashboard</h1>
<form id="logout" method="post" action="/logout">
<input type="hidden" name="csrf_token" value="{{.}}">
<button id="logout-button" type="submit">Log out</button>
</form></body></html>`))

// attackPage is a hostile page that, once loaded, posts the TAM's
// logout form without the CSRF token it cannot read.
var attackPage = template.Must(template.New("a").Parse(`<!doctype html>
<html><body><form method="post" action="{{.}}/logout"><input type="hidden" name="csrf_token" value="guess"></form>
<script>document.forms[0].submit()</script></body></html>`))

// TestCSRFInChromium: in a real headless Chromium, an operator logs in
// to the TAM's dashboard; a page of another site, and a page of the same
// site on another origin, each post the dashboard's state-changing form
// without the session's CSRF token: both are refused, with a refusal row
// each, and the session lives on. The dashboard's own form, with the
// token, then works; logged out, the browser opening the dashboard is
// sent to the login page.
func TestCSRFInChromium(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	f := newFixture(t, auth.Config{})
	// The stand-in page on the dashboard's own route, in front of the
	// fixture's mux (which holds a placeholder on that route).
	home, _ := auth.RouteByName(auth.RouteDashboard)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", f.gate.Wrap(home, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = dashboard.Execute(w, auth.CSRFToken(r.Context())) // the browser hung up: nothing to do
	})))
	mux.Handle("/", f.mux)
	cert, _, err := auth.LoadOrCreateSelfSigned(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tlsServer := func(h http.Handler) string {
		srv := httptest.NewUnstartedServer(h)
		srv.TLS = auth.ServerTLS(cert)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		return "https://localhost:" + port
	}
	tamURL := tlsServer(mux)
	attack := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = attackPage.Execute(w, tamURL) // the browser hung up: nothing to do
	})
	// Another site (127.0.0.1 is not localhost's site): SameSite=Strict
	// keeps the cookie home. Same site, other origin (another port): the
	// browser sends the cookie, and the CSRF check must refuse.
	crossSite := httptest.NewServer(attack)
	t.Cleanup(crossSite.Close)
	sameSite := tlsServer(attack)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// A bound on the whole browser session, so that a hung browser fails
	// the test instead of hanging it; nothing is timed.
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(tamURL+"/login"),
		chromedp.SendKeys(`input[name=name]`, "operator"),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#dashboard`),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}

	for _, atk := range []struct{ name, url, result string }{
		{"another site", crossSite.URL, "refused: unauthenticated"},
		{"same site, another origin", sameSite, "refused: csrf"},
	} {
		before := f.snapshot(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(atk.url)); err != nil {
			t.Fatalf("%s: %v", atk.name, err)
		}
		rows := waitAudit(t, f, len(before.audit)+1)
		if e := rows[len(before.audit)]; e.Action != auth.RouteLogout || e.Result != atk.result {
			t.Fatalf("%s: audit row %+v, want %s", atk.name, e, atk.result)
		}
		// The session lives on: the dashboard still opens.
		if err := chromedp.Do(ctx, chromedp.Navigate(tamURL+"/"), chromedp.WaitVisible(`#dashboard`)); err != nil {
			t.Fatalf("%s: the session did not survive: %v", atk.name, err)
		}
		if rows := f.snapshot(t).audit; len(rows) != len(before.audit)+1 {
			t.Fatalf("%s: audit rows after %+v", atk.name, rows[len(before.audit):])
		}
	}

	before := f.snapshot(t)
	if err := chromedp.Do(ctx,
		chromedp.Click(`#logout-button`),
		chromedp.WaitVisible(`input[name=password]`),
	); err != nil {
		t.Fatalf("log out: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	rows := waitAudit(t, f, len(before.audit)+1)
	if e := rows[len(before.audit)]; e.Action != auth.RouteLogout || e.Result != "ok" || e.Principal != "operator" || !strings.HasSuffix(loc, "/login") {
		t.Fatalf("the dashboard's own form: %+v at %s", e, loc)
	}
	// Logged out, the browser opening the dashboard is sent to the login
	// page, which would bring it back there.
	if err := chromedp.Do(ctx, chromedp.Navigate(tamURL+"/"), chromedp.WaitVisible(`input[name=password]`)); err != nil {
		t.Fatal(err)
	}
	loc, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/login?next=%2F") {
		t.Fatalf("after logout the dashboard went to %q (%v), want the login page with next=/", loc, err)
	}
}

// waitAudit waits until the trail holds n rows (the browser's request
// lands asynchronously) and returns them.
func waitAudit(t *testing.T, f *fixture, n int) []store.AuditEntry {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		rows := f.snapshot(t).audit
		if len(rows) >= n {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d audit rows, waited for %d", len(rows), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
