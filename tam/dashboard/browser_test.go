package dashboard_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/tamtest"
)

// EnvRequireChromium makes the browser test fail rather than skip when
// there is no chromium (.ci/run sets it; CI set does too, as for
// tam/auth's TestCSRFInChromium).
const EnvRequireChromium = "TEEUP_REQUIRE_CHROMIUM"

// EnvArtifacts names a directory the browser test writes its screenshots
// to (CI keeps it); without it they go to the test's temporary directory.
const EnvArtifacts = "TEEUP_TEST_ARTIFACTS"

// chromiumPath is Debian's chromium (.ci/run installs it), found as
// tam/auth's TestCSRFInChromium finds it (test helpers of another
// package cannot be imported).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv(EnvRequireChromium) != "" {
		t.Fatal("no chromium on the PATH: .ci/run installs it")
	}
	t.Skip("no chromium on the PATH (apt-get install chromium); " + EnvRequireChromium + "=1 makes this a failure")
	return ""
}

// artifacts is where screenshots go.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

const operatorPassword = "correct horse battery staple"

// browserTAM is the whole TAM (tam.New: the gate, the TEEP endpoint, the
// rollout engine, the dashboard) on SQLite, served over HTTPS for the
// browser (the session cookie is __Host-, Secure) and over plain HTTP
// for the light devices, with an operator who logs in.
func browserTAM(t *testing.T, clk *tamtest.Clock) (*tamtest.TAM, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cheap := auth.PasswordParams{Time: 1, Memory: 64, Threads: 1}
	rnd := tamtest.Seeded(15)
	gate, err := auth.New(auth.Config{Store: st, Now: clk.Now, Rand: rnd, Password: cheap})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(operatorPassword, cheap, rnd)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddPrincipal(ctx, store.Principal{Name: "operator", Roles: []store.Role{store.RoleOperator}, PasswordHash: hash, Created: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	devices := httptest.NewUnstartedServer(nil)
	srv, err := tam.New(tam.Config{Store: st, Key: key, BaseURL: "http://" + devices.Listener.Addr().String(),
		Gate: gate, Now: clk.Now, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	devices.Config.Handler = srv.Handler()
	devices.Start()
	t.Cleanup(devices.Close)
	cert, _, err := auth.LoadOrCreateSelfSigned(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	browser := httptest.NewUnstartedServer(srv.Handler())
	browser.TLS = auth.ServerTLS(cert)
	browser.StartTLS()
	t.Cleanup(browser.Close)
	_, port, _ := net.SplitHostPort(browser.Listener.Addr().String())
	pub, err := suit.NewPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tamtest.TAM{Store: st, Rollout: srv.Rollouts(), Key: key, Pub: pub, Clock: clk, URL: devices.URL}, "https://localhost:" + port
}

// TestDashboardInChromium: in a real headless Chromium, an operator opens
// a rollout's page, is sent to the login and back to it once logged in,
// and watches the rollout of a TA to four light devices (real TEEP
// Agents, tamtest) in waves of 1, 1 and 2: the rollout's page, reloading
// itself, shows each wave's devices succeed as they update; the
// operator's Pause button (a POST form with the session's CSRF token)
// pauses it, with its audit row; after the pause every device's session
// gets no Update and the counts stay; Resume lets the rest finish.
// Screenshots of each step are saved (EnvArtifacts).
func TestDashboardInChromium(t *testing.T) {
	// Not parallel: the devices' shared evidence comes from the process's
	// one TPM simulator.
	chromium := chromiumPath(t)
	shots := artifacts(t)
	clk := tamtest.NewClock()
	tm, tamURL := browserTAM(t, clk)
	ev := tamtest.NewEvidence(t)
	author := tamtest.NewAuthor(t)
	byID := map[string]*tamtest.Device{}
	var ids []string
	for range 4 {
		d := tm.NewDevice(t, ev, []*suit.Key{author.Pub}, tamtest.DeviceOptions{})
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	ctx := t.Context()
	hello := tamtest.ID("TA", "acme", "hello")
	env := author.Publish(t, tm, store.TAEnvelope, hello, 2, true)
	if _, err := tm.Rollout.AddRelease(ctx, "hello-2", [][]byte{env.Digest}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Rollout.AddGroup(ctx, store.Group{Name: "all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	waves, err := rollout.ParseWaves("1,1,2")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := tm.Rollout.Create(ctx, rollout.Spec{Group: "all", Release: "hello-2", Waves: waves, SuccessThreshold: 100, ErrorThreshold: 50})
	if err != nil {
		t.Fatal(err)
	}
	dels, err := tm.Store.Deliveries(ctx, ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	wave := func(w int) []*tamtest.Device {
		var out []*tamtest.Device
		for _, d := range dels {
			if d.Wave == w {
				out = append(out, byID[d.Device])
			}
		}
		return out
	}
	// sessions runs one session of each device and counts the Updates.
	sessions := func(devs ...*tamtest.Device) int {
		t.Helper()
		n := 0
		for _, d := range devs {
			out, err := d.Session(ctx)
			if err != nil {
				t.Fatalf("session of %s: %v", d.ID, err)
			}
			n += out.Updates
		}
		return n
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// A bound on the whole browser session, so that a hung browser fails
	// the test instead of hanging it; nothing is timed.
	bctx, cancel = context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// text waits until the page (reloading itself) shows want at sel.
	text := func(sel, want string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			tctx, cancel := context.WithTimeout(bctx, 5*time.Second)
			got, err = chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
			cancel()
			if err == nil && strings.TrimSpace(got) == want {
				return
			}
		}
		t.Fatalf("%s shows %q (%v), want %q", sel, got, err, want)
	}

	// Opened before logging in, the rollout's page sends the browser to
	// the login, which brings it back there.
	page := tamURL + "/dashboard/rollouts/" + ro.ID
	if err := chromedp.Do(bctx,
		chromedp.Navigate(page),
		chromedp.SendKeys(`input[name=name]`, "operator"),
		chromedp.SendKeys(`input[name=password]`, operatorPassword),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`#waves`),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || loc != page {
		t.Fatalf("logged in at %q (%v), want back at %s", loc, err, page)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(tamURL+"/"), chromedp.WaitVisible(`#dashboard`)); err != nil {
		t.Fatal(err)
	}
	text("#device-count", "4")
	shot("1-fleet")
	if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(`#waves`)); err != nil {
		t.Fatal(err)
	}
	text("#state", "running")
	text("#total-succeeded", "0")
	shot("2-rollout-started")

	// The rollout progresses as the devices update, and the page follows
	// without being told to.
	for w, wantSucceeded := range []string{"1", "2"} {
		if n := sessions(wave(w)...); n != 1 {
			t.Fatalf("wave %d: %d Updates, want 1", w, n)
		}
		text("#total-succeeded", wantSucceeded)
		text("#wave", []string{"2", "3"}[w])
	}
	shot("3-rollout-progressing")

	// Pause with the page's own button. The page reloads itself while
	// running: a click that lands during a reload is tried again, and
	// the store says when the pause happened.
	paused := false
	for try := 0; try < 20 && !paused; try++ {
		cctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		_ = chromedp.Do(cctx, chromedp.Click(chromedp.CSS("#pause"))) // a reload may eat it: the store decides
		cancel()
		for range 20 {
			r, err := tm.Store.Rollout(ctx, ro.ID)
			if err != nil {
				t.Fatal(err)
			}
			if paused = r.State == store.RolloutPaused; paused {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !paused {
		rows, _ := tm.Store.ListAudit(ctx, 0, 100)
		body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the pause button did not pause the rollout: audit %+v; the page: %s (%v)", rows, body, err)
	}
	text("#state", "paused")
	shot("4-paused")
	audit, err := tm.Store.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	pauses := slices.DeleteFunc(audit, func(e store.AuditEntry) bool { return e.Action != auth.RouteDashboardPause })
	if len(pauses) != 1 || pauses[0].Principal != "operator" || pauses[0].Result != "ok" || pauses[0].Target != ro.ID {
		t.Fatalf("the pause's audit rows: %+v", pauses)
	}

	// Paused, it sends nothing: every device's session gets no Update,
	// and the counts stay.
	before, err := tm.Rollout.Progress(ctx, ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	var all []*tamtest.Device
	for w := range 3 {
		all = append(all, wave(w)...)
	}
	if n := sessions(all...); n != 0 {
		t.Fatalf("%d Updates while paused", n)
	}
	after, err := tm.Rollout.Progress(ctx, ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != before.Total || after.Total.Sent != 0 || after.Total.Succeeded != 2 || after.Total.Pending != 2 {
		t.Fatalf("while paused the counts went from %+v to %+v", before.Total, after.Total)
	}
	for _, d := range wave(2) {
		if _, ok := d.TCs.Runs(hello); ok {
			t.Fatalf("device %s of the paused wave runs the TA", d.ID)
		}
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(page), chromedp.WaitVisible(`#resume`)); err != nil {
		t.Fatal(err)
	}
	text("#total-pending", "2")
	text("#total-succeeded", "2")

	// Resumed, the last wave finishes.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#resume"))); err != nil {
		t.Fatal(err)
	}
	text("#state", "running")
	if n := sessions(wave(2)...); n != 2 {
		t.Fatalf("last wave: %d Updates, want 2", n)
	}
	text("#state", "completed")
	text("#total-succeeded", "4")
	shot("5-completed")
	t.Logf("screenshots in %s", shots)
}
