package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// request is a well-formed request to route rt: an allowed caller
// succeeds with it.
func (f *fixture) request(rt auth.Route) *http.Request {
	path := strings.Replace(rt.Pattern, "{digest}", strings.Repeat("ab", 32), 1)
	path = strings.Replace(path, "{id}", f.spareID, 1)
	path = strings.Replace(path, "{$}", "", 1)
	var body io.Reader
	ctype := "application/json"
	switch rt.Name {
	case auth.RouteUserAdd:
		body = strings.NewReader(`{"name":"newcomer","roles":["viewer"]}`)
	case auth.RouteTokenCreate:
		body = strings.NewReader(`{"user":"viewer","expires_in":"1h"}`)
	case auth.RouteLogin:
		body = strings.NewReader(url.Values{"name": {"operator"}, "password": {password}}.Encode())
		ctype = "application/x-www-form-urlencoded"
	default:
		if rt.Method == http.MethodPost {
			body = strings.NewReader(`{}`)
		}
	}
	r := httptest.NewRequest(rt.Method, path, body)
	r.Header.Set("Content-Type", ctype)
	return r
}

// wantPolicy is who may call each non-public route, written out apart
// from auth.Routes: the matrix checks the table against it.
var wantPolicy = map[string][]store.Role{
	auth.RouteAuthorAdd:   {store.RoleOperator},
	auth.RouteAuthorList:  {store.RoleOperator, store.RoleViewer},
	auth.RoutePublish:     {store.RoleTAAuthor, store.RoleFirmwareAuthor},
	auth.RoutePersonalize: {store.RoleOperator},
	auth.RouteDeviceAdd:   {store.RoleOperator},
	auth.RouteDeviceList:  {store.RoleOperator, store.RoleViewer},
	auth.RouteStatus:      {store.RoleOperator, store.RoleViewer},
	auth.RouteUserAdd:     {store.RoleOperator},
	auth.RouteTokenCreate: {store.RoleOperator},
	auth.RouteTokenRevoke: {store.RoleOperator},
	auth.RouteAudit:       {store.RoleOperator},
	auth.RouteLogout:      {store.RoleOperator, store.RoleTAAuthor, store.RoleFirmwareAuthor, store.RoleViewer},

	auth.RouteGroupAdd:        {store.RoleOperator},
	auth.RouteGroupList:       {store.RoleOperator, store.RoleViewer},
	auth.RouteGroupGet:        {store.RoleOperator, store.RoleViewer},
	auth.RouteReleaseAdd:      {store.RoleOperator},
	auth.RouteReleaseList:     {store.RoleOperator, store.RoleViewer},
	auth.RouteRolloutCreate:   {store.RoleOperator},
	auth.RouteRolloutList:     {store.RoleOperator, store.RoleViewer},
	auth.RouteRolloutGet:      {store.RoleOperator, store.RoleViewer},
	auth.RouteRolloutProgress: {store.RoleOperator, store.RoleViewer},
	auth.RouteRolloutDevices:  {store.RoleOperator, store.RoleViewer},
	auth.RouteRolloutPause:    {store.RoleOperator},
	auth.RouteRolloutResume:   {store.RoleOperator},
	auth.RouteRolloutCancel:   {store.RoleOperator},
	auth.RouteDeviceTagsSet:   {store.RoleOperator},
	auth.RouteDeviceTagsGet:   {store.RoleOperator, store.RoleViewer},
	auth.RouteMetrics:         {store.RoleOperator, store.RoleViewer},

	auth.RouteWithdrawalAdd:    {store.RoleOperator, store.RoleTAAuthor},
	auth.RouteWithdrawalList:   {store.RoleOperator, store.RoleViewer},
	auth.RouteWithdrawalCancel: {store.RoleOperator, store.RoleTAAuthor},

	auth.RouteDashboard:        {store.RoleOperator, store.RoleViewer},
	auth.RouteDashboardAsset:   {store.RoleOperator, store.RoleViewer},
	auth.RouteDashboardRollout: {store.RoleOperator, store.RoleViewer},
	auth.RouteDashboardDevice:  {store.RoleOperator, store.RoleViewer},
	auth.RouteDashboardPause:   {store.RoleOperator},
	auth.RouteDashboardResume:  {store.RoleOperator},
	auth.RouteDashboardCancel:  {store.RoleOperator},
}

// wantPublic are the routes that take no credentials.
var wantPublic = []string{auth.RouteTEEP, auth.RoutePoll, auth.RoutePayload, auth.RouteTAMKey, auth.RouteLoginPage, auth.RouteLogin}

// TestRoutesArePolicy: every route is public or in wantPolicy, never
// both, and no route is missing.
func TestRoutesArePolicy(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, rt := range auth.Routes {
		if seen[rt.Name] {
			t.Errorf("route %s twice", rt.Name)
		}
		seen[rt.Name] = true
		_, listed := wantPolicy[rt.Name]
		if rt.Public != slices.Contains(wantPublic, rt.Name) || rt.Public == listed {
			t.Errorf("route %s: public %v, in the policy %v", rt.Name, rt.Public, listed)
		}
		if rt.MaxBody <= 0 {
			t.Errorf("route %s has no body bound", rt.Name)
		}
	}
	if len(seen) != len(wantPolicy)+len(wantPublic) {
		t.Errorf("%d routes, want %d", len(seen), len(wantPolicy)+len(wantPublic))
	}
}

// TestRouteRoleMatrix: every route of the TAM × every role, no
// credentials, an expired, a revoked, an unknown and a malformed token.
// Only the cells the policy allows reach the handler and succeed; the
// others get 401 (who are you) or 403 (not you), change nothing in the
// store, and leave one refusal row when they would have changed state.
func TestRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	creds := []string{credNone, credExpired, credRevoked, credUnknown, credBadForm}
	for _, r := range roleCreds {
		creds = append(creds, string(r))
	}
	for _, rt := range auth.Routes {
		t.Run(rt.Name, func(t *testing.T) {
			t.Parallel()
			// Refused requests change nothing (the test checks it), so
			// they share one fixture; each allowed one gets its own.
			shared := newFixture(t, auth.Config{})
			for _, cred := range creds {
				t.Run(cred, func(t *testing.T) {
					var want int
					switch {
					case rt.Public:
					case slices.Contains([]string{credNone, credExpired, credRevoked, credUnknown, credBadForm}, cred):
						want = http.StatusUnauthorized
					case !slices.Contains(wantPolicy[rt.Name], store.Role(cred)):
						want = http.StatusForbidden
					}
					f := shared
					if want == 0 {
						f = newFixture(t, auth.Config{})
					}
					before := f.snapshot(t)
					req := f.request(rt)
					if cred != credNone {
						req.Header.Set("Authorization", "Bearer "+f.tokens[cred])
					}
					resp := f.do(req)
					after := f.snapshot(t)

					if want != 0 {
						if resp.StatusCode != want {
							t.Fatalf("status %d, want %d", resp.StatusCode, want)
						}
						if h := resp.Header.Get("X-Handler"); h != "" {
							t.Fatalf("the handler ran")
						}
						newRows := before.changedBesidesAudit(t, after)
						wantRows := 0
						if rt.Method != http.MethodGet {
							wantRows = 1
						}
						if len(newRows) != wantRows {
							t.Fatalf("%d new audit rows, want %d: %+v", len(newRows), wantRows, newRows)
						}
						for _, e := range newRows {
							if e.Action != rt.Name || !strings.HasPrefix(e.Result, "refused: ") {
								t.Fatalf("refusal row %+v", e)
							}
						}
						return
					}
					if resp.StatusCode >= 400 {
						body, _ := io.ReadAll(resp.Body)
						t.Fatalf("allowed cell refused: %d %s", resp.StatusCode, body)
					}
					if !gateRoutes[rt.Name] && resp.Header.Get("X-Handler") != rt.Name {
						t.Fatalf("the handler did not run")
					}
					newRows := after.audit[len(before.audit):]
					switch {
					case rt.Public && rt.Name != auth.RouteLogin, rt.Method == http.MethodGet:
						if len(newRows) != 0 {
							t.Fatalf("audit rows for a request that changes nothing: %+v", newRows)
						}
					default:
						if len(newRows) != 1 || newRows[0].Action != rt.Name || newRows[0].Result != "ok" {
							t.Fatalf("want one ok audit row for %s, got %+v", rt.Name, newRows)
						}
						if !rt.Public && newRows[0].Principal != cred {
							t.Fatalf("audit row's principal %q, want %q", newRows[0].Principal, cred)
						}
					}
				})
			}
		})
	}
}

// TestMiddleware: the gate as a mux wrapper finds each route's policy by
// the pattern the mux matched, and refuses a pattern with no policy.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{})
	mux := http.NewServeMux()
	ran := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	mux.Handle("POST /api/v1/devices", f.gate.Middleware(http.HandlerFunc(ran)))
	mux.Handle("POST /api/v1/unlisted", f.gate.Middleware(http.HandlerFunc(ran)))
	tests := []struct {
		path, cred string
		want       int
	}{
		{"/api/v1/devices", string(store.RoleOperator), http.StatusOK},
		{"/api/v1/devices", string(store.RoleViewer), http.StatusForbidden},
		{"/api/v1/devices", credNone, http.StatusUnauthorized},
		{"/api/v1/unlisted", string(store.RoleOperator), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader("{}"))
		if tc.cred != credNone {
			r.Header.Set("Authorization", "Bearer "+f.tokens[tc.cred])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s as %s: %d, want %d", tc.path, tc.cred, w.Code, tc.want)
		}
	}
}
