package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/dashboard"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/tamtest"
)

// hostile is a device name an attacker who registers devices could
// choose: the pages must show it as text.
const hostile = `<script>alert("x")</script>`

// rig is a dashboard over a real SQLite store with three devices (one
// named hostile, appraised and reporting), a release and a running
// rollout of it in two waves.
type rig struct {
	st      store.Store
	eng     *rollout.Engine
	mux     *http.ServeMux
	rollout string
	devices []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := tamtest.NewClock()
	eng, err := rollout.New(rollout.Config{Store: st, Now: clk.Now, Rand: tamtest.Seeded(15)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Config{Store: st, Rollouts: eng, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, eng: eng, mux: http.NewServeMux()}
	for i, name := range []string{hostile, "b", "c"} {
		id := strings.Repeat(string(rune('a'+i)), 64)
		if err := st.AddDevice(ctx, store.Device{ID: id, Name: name, AgentKey: []byte{1}, Registered: clk.Now()}); err != nil {
			t.Fatal(err)
		}
		r.devices = append(r.devices, id)
	}
	first := r.devices[0]
	if err := st.RecordAttestation(ctx, first, store.Attestation{Time: clk.Now(), Status: "affirming"}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordTCs(ctx, first, []store.InstalledTC{{Component: tamtest.ID("TA", "acme", "hello"), SequenceNumber: 7}}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordError(ctx, first, hostile); err != nil {
		t.Fatal(err)
	}
	if err := st.AddReport(ctx, store.Report{Device: first, Time: clk.Now(), Success: false, ErrCode: 5, ErrMsg: hostile}); err != nil {
		t.Fatal(err)
	}
	env := tamtest.NewAuthor(t).Publish(t, &tamtest.TAM{Store: st, Clock: clk}, store.TAEnvelope, tamtest.ID("TA", "acme", "hello"), 8, true)
	if _, err := eng.AddRelease(ctx, "v8", [][]byte{env.Digest}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.AddGroup(ctx, store.Group{Name: "all", Members: r.devices}); err != nil {
		t.Fatal(err)
	}
	waves, err := rollout.ParseWaves("1,2")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := eng.Create(ctx, rollout.Spec{Group: "all", Release: "v8", Waves: waves, SuccessThreshold: 100, ErrorThreshold: 50})
	if err != nil {
		t.Fatal(err)
	}
	r.rollout = ro.ID
	// The patterns of auth.Routes, so that the handlers see the same
	// path values as behind the gate.
	for name, h := range map[string]http.HandlerFunc{
		auth.RouteDashboard: d.HandleFleet, auth.RouteDashboardAsset: d.HandleAsset,
		auth.RouteDashboardRollout: d.HandleRollout, auth.RouteDashboardDevice: d.HandleDevice,
		auth.RouteDashboardPause: d.HandlePause, auth.RouteDashboardResume: d.HandleResume,
		auth.RouteDashboardCancel: d.HandleCancel,
	} {
		rt, _ := auth.RouteByName(name)
		r.mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	return r
}

// do makes a request as a principal of role.
func (r *rig) do(t *testing.T, method, path string, role store.Role, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req = req.WithContext(auth.WithPrincipal(req.Context(), store.Principal{Name: "someone", Roles: []store.Role{role}}))
	w := httptest.NewRecorder()
	r.mux.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(b)
}

// TestPages: every page answers with its status, what it must show, what
// it must not (the hostile name unescaped, an operator's button to a
// viewer), and the security headers, errors included.
func TestPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	const escaped = `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`
	for _, tc := range []struct {
		name, path string
		role       store.Role
		status     int
		want, not  []string
	}{
		{"fleet", "/", store.RoleViewer, 200,
			[]string{`id="device-count">3<`, "affirming", "not appraised", "&#39;hello&#39;] @ 7", r.rollout, "running", `http-equiv="refresh"`, escaped},
			[]string{hostile}},
		{"rollout as viewer", "/dashboard/rollouts/" + r.rollout, store.RoleViewer, 200,
			[]string{`id="state" class="state-running">running<`, `id="total-pending">3<`, "Waves", `http-equiv="refresh"`},
			[]string{`id="pause"`, `id="cancel"`}},
		{"rollout as operator", "/dashboard/rollouts/" + r.rollout, store.RoleOperator, 200,
			[]string{`id="pause"`, `id="cancel"`, `name="csrf_token"`}, []string{`id="resume"`}},
		{"no such rollout", "/dashboard/rollouts/ro-none", store.RoleViewer, 404, []string{"not found"}, nil},
		{"device", "/dashboard/devices/" + r.devices[0], store.RoleViewer, 200,
			[]string{"affirming", "&#39;hello&#39;]", r.rollout, "Error", escaped}, []string{hostile}},
		{"no such device", "/dashboard/devices/" + strings.Repeat("f", 64), store.RoleViewer, 404, []string{"not found"}, nil},
		{"stylesheet", "/dashboard/assets/style.css", store.RoleViewer, 200, []string{"font-family"}, nil},
		{"no such asset", "/dashboard/assets/nothing.css", store.RoleViewer, 404, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := r.do(t, http.MethodGet, tc.path, tc.role, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("the page holds %q", n)
				}
			}
			h := resp.Header
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Referrer-Policy") != "same-origin" {
				t.Errorf("headers %v", h)
			}
		})
	}
}

// TestActions: the buttons move the rollout as its state allows, answer
// 303 back to its page, and refuse a move the state does not allow (409)
// or a rollout that is not there (404) without changing anything.
func TestActions(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	page := "/dashboard/rollouts/" + r.rollout
	for _, step := range []struct {
		action string
		reason string
		status int
		state  store.RolloutState
	}{
		{"resume", "", http.StatusConflict, store.RolloutRunning},
		{"pause", "", http.StatusSeeOther, store.RolloutPaused},
		{"pause", "", http.StatusConflict, store.RolloutPaused},
		{"cancel", strings.Repeat("x", dashboard.MaxReasonLen+1), http.StatusBadRequest, store.RolloutPaused},
		{"resume", "", http.StatusSeeOther, store.RolloutRunning},
		{"cancel", "enough", http.StatusSeeOther, store.RolloutCanceled},
		{"resume", "", http.StatusConflict, store.RolloutCanceled},
		// The engine refuses canceled to canceled as an invalid move.
		{"cancel", "", http.StatusBadRequest, store.RolloutCanceled},
	} {
		resp, body := r.do(t, http.MethodPost, page+"/"+step.action, store.RoleOperator, url.Values{"reason": {step.reason}})
		if resp.StatusCode != step.status {
			t.Fatalf("%s: status %d, want %d: %s", step.action, resp.StatusCode, step.status, body)
		}
		if step.status == http.StatusSeeOther && resp.Header.Get("Location") != page {
			t.Fatalf("%s: redirected to %q", step.action, resp.Header.Get("Location"))
		}
		ro, err := r.st.Rollout(t.Context(), r.rollout)
		if err != nil {
			t.Fatal(err)
		}
		if ro.State != step.state {
			t.Fatalf("after %s: %s, want %s", step.action, ro.State, step.state)
		}
		if step.action == "cancel" && step.status == http.StatusSeeOther && ro.Reason != "enough" {
			t.Fatalf("reason %q", ro.Reason)
		}
	}
	for _, action := range []string{"pause", "resume", "cancel"} {
		if resp, body := r.do(t, http.MethodPost, "/dashboard/rollouts/ro-none/"+action, store.RoleOperator, url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s of no rollout: %d %s", action, resp.StatusCode, body)
		}
	}
	// A canceled rollout's page offers no button.
	if _, body := r.do(t, http.MethodGet, page, store.RoleOperator, nil); strings.Contains(body, `id="pause"`) || strings.Contains(body, `id="resume"`) || strings.Contains(body, `id="cancel"`) || strings.Contains(body, "http-equiv") {
		t.Fatalf("a canceled rollout's page:\n%s", body)
	}
}

// TestFleetPages: the fleet page's counts cover every device whatever the
// page shown, its devices are one page of MaxDevicesShown by ID, and the
// next-page link walks them all once; an after that is no device ID is
// refused (400).
func TestFleetPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := t.Context()
	extra := 2*dashboard.MaxDevicesShown + 17
	for i := range extra {
		id := fmt.Sprintf("%064x", 7919*i+1)
		if err := r.st.AddDevice(ctx, store.Device{ID: id, Name: fmt.Sprint("extra-", i), AgentKey: []byte{1}}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := r.st.RecordTCs(ctx, id, []store.InstalledTC{{Component: tamtest.ID("TA", "acme", "hello"), SequenceNumber: 7}}, time.Unix(1, 0)); err != nil {
				t.Fatal(err)
			}
		}
		r.devices = append(r.devices, id)
	}
	slices.Sort(r.devices)
	total := len(r.devices)
	// The rig's first device is seen and failing; half the extra ones are
	// seen and up, running the rig's version.
	up, failing := (extra+1)/2, 1
	next := regexp.MustCompile(`id="next-page" href="/\?after=([0-9a-f]+)"`)
	row := regexp.MustCompile(`href="/dashboard/devices/([0-9a-f]+)"`)
	var shown []string
	path := "/"
	for pages := 1; ; pages++ {
		resp, body := r.do(t, http.MethodGet, path, store.RoleViewer, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		for _, want := range []string{
			fmt.Sprintf(`id="device-count">%d<`, total),
			fmt.Sprintf(`<td>failing</td><td class="n">%d</td>`, failing),
			fmt.Sprintf(`<td>never seen</td><td class="n">%d</td>`, total-up-failing),
			fmt.Sprintf(`<td>up</td><td class="n">%d</td>`, up),
			fmt.Sprintf(`&#39;hello&#39;] @ 7</td><td class="n">%d</td>`, up+failing),
		} {
			if !strings.Contains(body, want) {
				t.Fatalf("%s lacks %q", path, want)
			}
		}
		var ids []string
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		if len(ids) > dashboard.MaxDevicesShown {
			t.Fatalf("%s shows %d devices", path, len(ids))
		}
		shown = append(shown, ids...)
		m := next.FindStringSubmatch(body)
		if m == nil {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		if len(ids) != dashboard.MaxDevicesShown || m[1] != ids[len(ids)-1] {
			t.Fatalf("%s: %d devices, next after %s", path, len(ids), m[1])
		}
		path = "/?after=" + m[1]
	}
	if !slices.Equal(shown, r.devices) {
		t.Fatalf("the pages showed %d devices, want the %d by ID", len(shown), len(r.devices))
	}
	for _, after := range []string{"XYZ", strings.Repeat("A", 64), strings.Repeat("a", store.MaxKey+1), "%27%20OR%201%3D1"} {
		if resp, body := r.do(t, http.MethodGet, "/?after="+after, store.RoleViewer, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("after %q: %d %s", after, resp.StatusCode, body)
		}
	}
}
