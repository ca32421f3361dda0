package tam_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// The whole TAM behind its gate, on its real store: issue 17's route ×
// role acceptance, with the real handlers of every route.

var gateEpoch = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

type gateClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *gateClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// The credentials of the matrix.
const (
	credNone    = "no credentials"
	credExpired = "expired token"
	credRevoked = "revoked token"
)

var matrixRoles = []store.Role{store.RoleOperator, store.RoleTAAuthor, store.RoleFirmwareAuthor, store.RoleViewer}

// gatedTAM is a TAM on a fresh sqlite store with authors acme and
// globex (TA authors) and fw (firmware), a principal per role (named
// after it; the TA author publishes as acme, the firmware author as fw),
// each with a token, and an operator "old" with an expired and a revoked
// token.
type gatedTAM struct {
	st      store.Store
	handler http.Handler
	signers map[string]*suit.SigningKey
	tokens  map[string]string
	// spare is a viewer token's id, for the revoke route.
	spare string
}

func newGatedTAM(t *testing.T) *gatedTAM {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &gateClock{t: gateEpoch}
	rnd := rand.NewChaCha8([32]byte{17})
	gate, err := auth.New(auth.Config{Store: st, Now: clk.Now, Rand: rnd,
		Password: auth.PasswordParams{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := tam.LoadOrCreateKey(filepath.Join(dir, tam.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tam.New(tam.Config{Store: st, Key: key, BaseURL: "https://tam.example", Gate: gate, Now: clk.Now, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedTAM{st: st, handler: srv.Handler(), signers: map[string]*suit.SigningKey{}, tokens: map[string]string{}}

	for _, a := range []struct {
		name     string
		kind     store.AuthorKind
		prefixes []suit.ComponentID
	}{
		{"acme", store.TAAuthor, []suit.ComponentID{{[]byte("TA"), []byte("acme")}}},
		{"globex", store.TAAuthor, []suit.ComponentID{{[]byte("TA"), []byte("globex")}}},
		{"fw", store.FirmwareAuthor, []suit.ComponentID{{[]byte("normal")}}},
	} {
		k, err := suit.GenerateSigningKey(suit.AlgESP256)
		if err != nil {
			t.Fatal(err)
		}
		g.signers[a.name] = k
		pemKey, err := k.MarshalPublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(pemKey)
		der := blk.Bytes
		if err := st.AddAuthor(ctx, store.Author{Name: a.name, Kind: a.kind, Key: der, Prefixes: a.prefixes, Created: gateEpoch}); err != nil {
			t.Fatal(err)
		}
	}
	addPrincipal := func(name string, role store.Role, author string) {
		if err := st.AddPrincipal(ctx, store.Principal{Name: name, Roles: []store.Role{role}, Author: author, Created: gateEpoch}); err != nil {
			t.Fatal(err)
		}
	}
	addToken := func(principal string, life time.Duration) (string, string) {
		id, tok, hash, err := auth.NewToken(rnd)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, store.Token{ID: id, Principal: principal, Hash: hash, Created: gateEpoch, Expires: gateEpoch.Add(life)}); err != nil {
			t.Fatal(err)
		}
		return id, tok
	}
	addPrincipal("operator", store.RoleOperator, "")
	addPrincipal("ta-author", store.RoleTAAuthor, "acme")
	addPrincipal("firmware-author", store.RoleFirmwareAuthor, "fw")
	addPrincipal("viewer", store.RoleViewer, "")
	addPrincipal("old", store.RoleOperator, "")
	for _, r := range matrixRoles {
		_, g.tokens[string(r)] = addToken(string(r), time.Hour)
	}
	_, g.tokens[credExpired] = addToken("old", 0)
	var revoked string
	revoked, g.tokens[credRevoked] = addToken("old", time.Hour)
	if err := st.RevokeToken(ctx, revoked, gateEpoch); err != nil {
		t.Fatal(err)
	}
	g.spare, _ = addToken("viewer", time.Hour)
	return g
}

// envelope is an envelope installing a payload as component c, signed
// by the given authors.
func (g *gatedTAM) envelope(t *testing.T, c suit.ComponentID, signers ...string) []byte {
	t.Helper()
	payload := []byte("a TA of " + c.String())
	sum := sha256.Sum256(payload)
	env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: bytes.Repeat([]byte{0xfa}, 16), ClassID: bytes.Repeat([]byte{0x14}, 16),
		Components: []author.Component{{ID: c, Payload: payload, URI: "https://tam.example" + catalog.PayloadPath(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range signers {
		if err := env.Sign(g.signers[s]); err != nil {
			t.Fatal(err)
		}
	}
	return env.Encode()
}

// publishBody is a publish request's multipart body: the envelope, and
// the author field when not empty.
func publishBody(t *testing.T, envelope []byte, as string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	part, err := mw.CreateFormFile("envelope", "envelope.suit")
	if err == nil {
		_, err = part.Write(envelope)
	}
	if err == nil && as != "" {
		err = mw.WriteField("author", as)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

// request is a valid request to rt for a caller with credential cred: an
// allowed caller succeeds with it (2xx or 3xx).
func (g *gatedTAM) request(t *testing.T, rt auth.Route, cred string) *http.Request {
	t.Helper()
	path := strings.Replace(rt.Pattern, "{id}", g.spare, 1)
	// The fleet's routes name a group, a rollout and a device that do
	// not exist: an allowed caller gets the handler's 404.
	path = strings.NewReplacer("{name}", "nobody", "{rollout}", "ro-none", "{device}", strings.Repeat("cd", 32), "{file}", "style.css", "{$}", "").Replace(path)
	var body io.Reader
	ctype := "application/json"
	switch rt.Name {
	case auth.RoutePoll:
		path += "?device=" + strings.Repeat("ab", 32) + "&wait=1ms"
	case auth.RoutePayload:
		path = strings.Replace(path, "{digest}", strings.Repeat("ab", 32), 1)
	case auth.RouteAuthorAdd:
		k, err := suit.GenerateSigningKey(suit.AlgESP256)
		if err != nil {
			t.Fatal(err)
		}
		pemKey, err := k.MarshalPublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(catalog.AuthorRequest{Name: "initech", Kind: "ta", Key: string(pemKey), Prefixes: []string{"TA/initech"}})
		body = bytes.NewReader(b)
	case auth.RoutePublish:
		env := g.envelope(t, suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, "acme")
		if cred == string(store.RoleFirmwareAuthor) {
			env = g.envelope(t, suit.ComponentID{[]byte("normal")}, "fw")
		}
		body, ctype = publishBody(t, env, "")
	case auth.RoutePersonalize:
		// No device is registered: an allowed caller reaches the
		// handler, which answers 404.
		body = strings.NewReader(`{"device":"` + strings.Repeat("cd", 32) + `","tc":"TA/acme/hello","data":"AAAA"}`)
	case auth.RouteDeviceAdd:
		// An endorsement the handler refuses (400): the gate let it in.
		body = strings.NewReader(`{"endorsement":{}}`)
	case auth.RouteUserAdd:
		body = strings.NewReader(`{"name":"newcomer","roles":["viewer"]}`)
	case auth.RouteTokenCreate:
		body = strings.NewReader(`{"user":"viewer"}`)
	case auth.RouteLogin:
		body, ctype = strings.NewReader("name=operator&password=x"), "application/x-www-form-urlencoded"
	case auth.RouteGroupAdd:
		body = strings.NewReader(`{"name":"canaries","selector":{"tag":"canary"}}`)
	case auth.RouteReleaseAdd:
		body = strings.NewReader(`{"name":"v2","envelopes":["` + strings.Repeat("ab", 32) + `"]}`)
	case auth.RouteRolloutCreate:
		body = strings.NewReader(`{"group":"canaries","release":"v2","waves":"10%","success_threshold":90,"error_threshold":10}`)
	case auth.RouteDeviceTagsSet:
		body = strings.NewReader(`{"tags":["canary"]}`)
	case auth.RouteWithdrawalAdd, auth.RouteWithdrawalCancel:
		body = strings.NewReader(`{"component":"TA/acme/hello"}`)
	default:
		if rt.Method == http.MethodPost {
			body = strings.NewReader("")
		}
	}
	r := httptest.NewRequest(rt.Method, path, body)
	r.Header.Set("Content-Type", ctype)
	if tok, ok := g.tokens[cred]; ok {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}

// handlerRefuses are the routes whose valid-looking request above the
// handler itself refuses (no device registered, no login password):
// an allowed caller gets the handler's answer, never the gate's.
var handlerRefuses = map[string]int{
	auth.RoutePoll:        http.StatusNotFound,
	auth.RoutePayload:     http.StatusNotFound,
	auth.RoutePersonalize: http.StatusNotFound,
	auth.RouteDeviceAdd:   http.StatusBadRequest,
	auth.RouteLogin:       http.StatusUnauthorized,
	// The fleet's: no such group, envelope, release, rollout or device.
	auth.RouteGroupGet:        http.StatusNotFound,
	auth.RouteReleaseAdd:      http.StatusNotFound,
	auth.RouteRolloutCreate:   http.StatusNotFound,
	auth.RouteRolloutGet:      http.StatusNotFound,
	auth.RouteRolloutProgress: http.StatusNotFound,
	auth.RouteRolloutDevices:  http.StatusNotFound,
	auth.RouteRolloutPause:    http.StatusNotFound,
	auth.RouteRolloutResume:   http.StatusNotFound,
	auth.RouteRolloutCancel:   http.StatusNotFound,
	auth.RouteDeviceTagsSet:   http.StatusNotFound,
	auth.RouteDeviceTagsGet:   http.StatusNotFound,
	// Nothing published: no TA to withdraw, no withdrawal to end.
	auth.RouteWithdrawalAdd:    http.StatusNotFound,
	auth.RouteWithdrawalCancel: http.StatusNotFound,
	// The dashboard's: no such rollout or device.
	auth.RouteDashboardRollout: http.StatusNotFound,
	auth.RouteDashboardDevice:  http.StatusNotFound,
	auth.RouteDashboardPause:   http.StatusNotFound,
	auth.RouteDashboardResume:  http.StatusNotFound,
	auth.RouteDashboardCancel:  http.StatusNotFound,
}

func (g *gatedTAM) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	g.handler.ServeHTTP(w, r)
	return w.Result()
}

// tamSnapshot is everything of the store an operator request could
// change.
type tamSnapshot struct {
	Authors     []store.Author
	Envelopes   []store.Envelope
	Devices     []store.Device
	Principals  []store.Principal
	Tokens      []store.Token
	Audit       []store.AuditEntry
	Withdrawals []store.Withdrawal
}

func (g *gatedTAM) snapshot(t *testing.T) tamSnapshot {
	t.Helper()
	ctx := context.Background()
	var s tamSnapshot
	var err error
	check := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	s.Authors, err = g.st.ListAuthors(ctx)
	check(err)
	s.Envelopes, err = g.st.ListEnvelopes(ctx)
	check(err)
	for after := ""; ; {
		page, err := g.st.DevicePage(ctx, after, store.MaxPage)
		check(err)
		s.Devices = append(s.Devices, page...)
		if len(page) < store.MaxPage {
			break
		}
		after = page[len(page)-1].ID
	}
	s.Principals, err = g.st.ListPrincipals(ctx)
	check(err)
	s.Tokens, err = g.st.ListTokens(ctx, "")
	check(err)
	s.Audit, err = g.st.ListAudit(ctx, 0, auth.MaxAuditPage)
	check(err)
	s.Withdrawals, err = g.st.ListWithdrawals(ctx)
	check(err)
	return s
}

// newAudit is the rows after holds beyond before; it fails t if
// anything else differs.
func newAudit(t *testing.T, before, after tamSnapshot) []store.AuditEntry {
	t.Helper()
	rows := after.Audit[len(before.Audit):]
	after.Audit = before.Audit
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the store changed:\nbefore %+v\nafter  %+v", before, after)
	}
	return rows
}

// wantAllowed is who may call each route, written apart from
// auth.Routes (nil: public).
var wantAllowed = map[string][]store.Role{
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
	auth.RouteLogout:      matrixRoles,

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

// TestGateRouteRoleMatrix: every route of the TAM × every role, no
// credentials, an expired and a revoked token, through the assembled
// server with its real handlers: only the allowed cells reach their
// handler (and succeed on a valid request); the others get 401 or 403,
// change nothing in the store, and leave one refusal row when they would
// have changed state.
func TestGateRouteRoleMatrix(t *testing.T) {
	t.Parallel()
	creds := []string{credNone, credExpired, credRevoked}
	for _, r := range matrixRoles {
		creds = append(creds, string(r))
	}
	for _, rt := range auth.Routes {
		for _, cred := range creds {
			t.Run(rt.Name+"/"+cred, func(t *testing.T) {
				t.Parallel()
				g := newGatedTAM(t)
				before := g.snapshot(t)
				resp := g.do(g.request(t, rt, cred))
				after := g.snapshot(t)
				body, _ := io.ReadAll(resp.Body)

				want := 0
				switch allowed := wantAllowed[rt.Name]; {
				case rt.Public:
				case cred == credNone || cred == credExpired || cred == credRevoked:
					want = http.StatusUnauthorized
				case !slices.Contains(allowed, store.Role(cred)):
					want = http.StatusForbidden
				}
				if want != 0 {
					if resp.StatusCode != want {
						t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, body)
					}
					rows := newAudit(t, before, after)
					wantRows := 0
					if rt.Method != http.MethodGet {
						wantRows = 1
					}
					if len(rows) != wantRows || wantRows == 1 && (rows[0].Action != rt.Name || !strings.HasPrefix(rows[0].Result, "refused: ")) {
						t.Fatalf("audit rows %+v, want %d refusal", rows, wantRows)
					}
					return
				}
				if code, ok := handlerRefuses[rt.Name]; ok {
					if resp.StatusCode != code {
						t.Fatalf("status %d, want the handler's %d: %s", resp.StatusCode, code, body)
					}
				} else if resp.StatusCode >= 400 {
					t.Fatalf("allowed cell refused: %d %s", resp.StatusCode, body)
				}
				rows := after.Audit[len(before.Audit):]
				switch {
				case rt.Name == auth.RouteLogin:
					if len(rows) != 1 || rows[0].Action != auth.RouteLogin {
						t.Fatalf("login audit rows %+v", rows)
					}
				case rt.Public || rt.Method == http.MethodGet:
					if len(rows) != 0 {
						t.Fatalf("audit rows for a request that changes nothing: %+v", rows)
					}
				default:
					if len(rows) != 1 || rows[0].Action != rt.Name || rows[0].Principal != cred {
						t.Fatalf("audit rows %+v, want one of %s by %s", rows, rt.Name, cred)
					}
				}
			})
		}
	}
}

// TestGateAuthorPrefixes: a TA author's token publishes inside its own
// prefixes only: not a valid envelope of another author (signed by that
// author), not its own signature on another author's component, not by
// naming the other author. Each refusal stores nothing and leaves its
// audit row; the honest publish then succeeds.
func TestGateAuthorPrefixes(t *testing.T) {
	t.Parallel()
	g := newGatedTAM(t)
	globexTA := suit.ComponentID{[]byte("TA"), []byte("globex"), []byte("tool")}
	acmeTA := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	tests := []struct {
		name      string
		envelope  []byte
		as        string
		wantCode  int
		wantAudit string
	}{
		{"another author's valid envelope", g.envelope(t, globexTA, "globex"), "", http.StatusForbidden, "failed: 403 bad_signature"},
		{"another author's valid envelope, signed by both", g.envelope(t, globexTA, "globex", "acme"), "", http.StatusForbidden, "failed: 403 outside_prefixes"},
		{"another author's valid envelope, naming that author", g.envelope(t, globexTA, "globex"), "globex", http.StatusForbidden, "failed: 403 not_author"},
		{"own signature outside own prefixes", g.envelope(t, globexTA, "acme"), "", http.StatusForbidden, "failed: 403 outside_prefixes"},
		{"own envelope inside own prefixes", g.envelope(t, acmeTA, "acme"), "", http.StatusCreated, "ok"},
	}
	for _, tc := range tests {
		before := g.snapshot(t)
		body, ctype := publishBody(t, tc.envelope, tc.as)
		r := httptest.NewRequest(http.MethodPost, "/api/v1/publish", body)
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("Authorization", "Bearer "+g.tokens[string(store.RoleTAAuthor)])
		resp := g.do(r)
		after := g.snapshot(t)
		if resp.StatusCode != tc.wantCode {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.wantCode, b)
		}
		rows := after.Audit[len(before.Audit):]
		if len(rows) != 1 || rows[0].Principal != "ta-author" || rows[0].Result != tc.wantAudit {
			t.Fatalf("%s: audit rows %+v, want one %q", tc.name, rows, tc.wantAudit)
		}
		if tc.wantCode != http.StatusCreated {
			newAudit(t, before, after)
			continue
		}
		if len(after.Envelopes) != len(before.Envelopes)+1 || after.Envelopes[len(after.Envelopes)-1].Author != "acme" {
			t.Fatalf("%s: envelopes %d -> %d", tc.name, len(before.Envelopes), len(after.Envelopes))
		}
	}
}
