package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/store"
)

// Store is what the gate keeps: principals, tokens, login sessions, the
// audit trail, and the authors an author role publishes as.
type Store interface {
	store.Principals
	store.Audit
	store.Authors
}

// Config is the gate's store, clock, randomness and limits. Zero fields
// mean the real clock, crypto/rand, the default costs and rates.
type Config struct {
	Store  Store
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger

	Password    PasswordParams
	TEEPRate    Rate
	LoginRate   Rate
	FailureRate Rate
}

// Gate authenticates and authorizes the TAM's routes, enforces their body
// and rate limits, and writes the audit trail. Safe for concurrent use.
type Gate struct {
	st       Store
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	api      apijson.Responder // answers the errors of the gate's own routes
	password PasswordParams
	teep     *limiter
	login    *limiter
	failures *limiter
	// dummyHash is checked against when a login names no principal, so
	// that an unknown name costs what a wrong password does.
	dummyHash []byte
}

// New is a gate over cfg.Store.
func New(cfg Config) (*Gate, error) {
	g := &Gate{st: cfg.Store, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger, password: cfg.Password}
	if g.now == nil {
		g.now = time.Now
	}
	if g.rand == nil {
		g.rand = rand.Reader
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.api = apijson.Responder{Statuses: statuses, Log: g.log}
	orDefault := func(r, d Rate) Rate {
		if r == (Rate{}) {
			return d
		}
		return r
	}
	g.teep = newLimiter(orDefault(cfg.TEEPRate, DefaultTEEPRate), MaxRateSources)
	g.login = newLimiter(orDefault(cfg.LoginRate, DefaultLoginRate), MaxRateSources)
	g.failures = newLimiter(orDefault(cfg.FailureRate, DefaultFailureRate), MaxRateSources)
	var err error
	if g.dummyHash, err = HashPassword("no such principal", g.password, g.rand); err != nil {
		return nil, err
	}
	return g, nil
}

// Handle registers h on mux under the route named name (in Routes), behind
// the gate. It panics on a name Routes does not hold: that is a
// programming error, caught by the first test that builds the server.
func (g *Gate) Handle(mux *http.ServeMux, name string, h http.Handler) {
	rt, ok := RouteByName(name)
	if !ok {
		panic("auth: no route named " + name)
	}
	mux.Handle(rt.Method+" "+rt.Pattern, g.Wrap(rt, h))
}

// Middleware is the gate as a wrapper of handlers a ServeMux routes to
// (tam.Config.Gate): it finds the route by the pattern the mux matched
// (r.Pattern, "POST /api/v1/publish"), which must be registered exactly
// as in Routes. A pattern Routes does not hold is refused (500, logged):
// a route without a policy is a programming error, never an open door.
func (g *Gate) Middleware(h http.Handler) http.Handler {
	wrapped := map[string]http.Handler{}
	for _, rt := range Routes {
		wrapped[rt.Method+" "+rt.Pattern] = g.Wrap(rt, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gh, ok := wrapped[r.Pattern]; ok {
			gh.ServeHTTP(w, r)
			return
		}
		g.log.Error("auth: a route with no policy", "pattern", r.Pattern)
		apijson.WriteError(w, http.StatusInternalServerError, "internal", "route "+r.Pattern+" has no policy")
	})
}

// Register puts the gate's own routes on mux: users, tokens, the audit
// trail, and the dashboard login.
func (g *Gate) Register(mux *http.ServeMux) {
	g.Handle(mux, RouteUserAdd, http.HandlerFunc(g.addUser))
	g.Handle(mux, RouteTokenCreate, http.HandlerFunc(g.createToken))
	g.Handle(mux, RouteTokenRevoke, http.HandlerFunc(g.revokeToken))
	g.Handle(mux, RouteAudit, http.HandlerFunc(g.listAudit))
	g.Handle(mux, RouteLoginPage, http.HandlerFunc(g.loginPage))
	g.Handle(mux, RouteLogin, http.HandlerFunc(g.loginHandler))
	g.Handle(mux, RouteLogout, http.HandlerFunc(g.logout))
}

// identity is who a request authenticated as, and how.
type identity struct {
	principal store.Principal
	// session is the login session of a request made with a session
	// cookie; nil for a token.
	session *store.LoginSession
	// token is the id of the API token used; empty for a session.
	token string
}

// Wrap is h behind the gate for route rt.
func (g *Gate) Wrap(rt Route, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := g.now()
		r.Body = http.MaxBytesReader(w, r.Body, rt.MaxBody)
		src := source(r)
		if rt.Public {
			lim := g.teep
			if rt.Name == RouteLogin {
				lim = g.login
			}
			if rt.RateLimited && !lim.allow(src, now) {
				w.Header().Set("Retry-After", "1")
				apijson.WriteError(w, http.StatusTooManyRequests, "rate_limited", ErrRateLimited.Error())
				return
			}
			h.ServeHTTP(w, r)
			return
		}
		if g.failures.exhausted(src, now) {
			w.Header().Set("Retry-After", "1")
			apijson.WriteError(w, http.StatusTooManyRequests, "rate_limited", ErrRateLimited.Error())
			return
		}
		changing := changesState(r.Method)
		id, err := g.authenticate(r.Context(), r, now)
		if err != nil {
			g.failures.allow(src, now)
			if rt.Page && opensPage(r) && errors.Is(err, ErrUnauthenticated) {
				g.log.Info("auth: to the login", "route", rt.Name, "source", src, "err", err)
				toLogin(w, r)
				return
			}
			g.refuse(w, r, rt, "", now, err)
			return
		}
		if id.session != nil && changing {
			if err := checkCSRF(r, id.session); err != nil {
				g.refuse(w, r, rt, id.principal.Name, now, err)
				return
			}
		}
		if !rt.Allows(id.principal.Roles) {
			g.refuse(w, r, rt, id.principal.Name, now, fmt.Errorf("%w: %s needs one of %v", ErrRole, rt.Name, rt.Roles))
			return
		}
		ctx := WithPrincipal(r.Context(), id.principal)
		if id.session != nil {
			ctx = context.WithValue(ctx, sessionKey{}, *id.session)
		}
		if !changing {
			h.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		note := &auditNote{target: r.PathValue("id")}
		ctx = context.WithValue(ctx, auditKey{}, note)
		// The response is held until the audit row is written: a client
		// told "done" finds its change in the trail.
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(buf, r.WithContext(ctx))
		e := store.AuditEntry{Time: now, Principal: id.principal.Name, Action: rt.Name, Target: note.target,
			Result: buf.result(), Detail: note.detail}
		if id.token != "" {
			e.Detail = joinDetail("token "+id.token, e.Detail)
		}
		g.appendAudit(r.Context(), e)
		buf.flushTo(w)
	})
}

// authenticate finds who r is: a bearer token if r has an Authorization
// header, else a session cookie.
func (g *Gate) authenticate(ctx context.Context, r *http.Request, now time.Time) (identity, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := cutBearer(h)
		if !ok {
			return identity{}, fmt.Errorf("%w: Authorization is not Bearer", ErrBadCredentials)
		}
		return g.authenticateToken(ctx, tok, now)
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return g.authenticateSession(ctx, c.Value, now)
	}
	return identity{}, ErrNoCredentials
}

func cutBearer(h string) (string, bool) {
	const scheme = "Bearer "
	if len(h) < len(scheme) || !equalFoldASCII(h[:len(scheme)], scheme) {
		return "", false
	}
	return h[len(scheme):], true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func (g *Gate) authenticateToken(ctx context.Context, tok string, now time.Time) (identity, error) {
	id, _, err := ParseToken(tok)
	if err != nil {
		return identity{}, err
	}
	hash := TokenHash(tok)
	t, err := g.st.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return identity{}, fmt.Errorf("%w: unknown token %s", ErrBadCredentials, id)
	}
	if err != nil {
		return identity{}, fmt.Errorf("look up token: %w", err)
	}
	// The lookup found it by hash already; compare again in constant
	// time so that a backend's lookup is never the only check.
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 || t.ID != id {
		return identity{}, fmt.Errorf("%w: unknown token %s", ErrBadCredentials, id)
	}
	if !t.Revoked.IsZero() {
		return identity{}, fmt.Errorf("%w: token %s", ErrRevoked, id)
	}
	if !now.Before(t.Expires) {
		return identity{}, fmt.Errorf("%w: token %s", ErrExpired, id)
	}
	p, err := g.principal(ctx, t.Principal)
	if err != nil {
		return identity{}, err
	}
	return identity{principal: p, token: id}, nil
}

func (g *Gate) principal(ctx context.Context, name string) (store.Principal, error) {
	p, err := g.st.Principal(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Principal{}, fmt.Errorf("%w: principal %q is gone", ErrBadCredentials, name)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("look up principal: %w", err)
	}
	return p, nil
}

// refuse answers a refused request (401 or 403, or 500 when the store
// failed) and writes its refusal row when the request would have changed
// state.
func (g *Gate) refuse(w http.ResponseWriter, r *http.Request, rt Route, who string, now time.Time, err error) {
	status, code := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, ErrUnauthenticated):
		status, code = http.StatusUnauthorized, "unauthenticated"
		w.Header().Set("WWW-Authenticate", `Bearer realm="teeup-tam"`)
	case errors.Is(err, ErrCSRF):
		status, code = http.StatusForbidden, "csrf"
	case errors.Is(err, ErrForbidden):
		status, code = http.StatusForbidden, "forbidden"
	}
	if status == http.StatusInternalServerError {
		g.log.Error("auth: authenticate", "route", rt.Name, "err", err)
		apijson.WriteError(w, status, code, "internal error")
		return
	}
	g.log.Info("auth: refused", "route", rt.Name, "principal", who, "source", source(r), "err", err)
	if changesState(r.Method) {
		g.appendAudit(r.Context(), store.AuditEntry{Time: now, Principal: who, Action: rt.Name,
			Target: r.PathValue("id"), Result: "refused: " + code, Detail: "from " + source(r) + ": " + err.Error()})
	}
	apijson.WriteError(w, status, code, err.Error())
}

func (g *Gate) appendAudit(ctx context.Context, e store.AuditEntry) {
	if _, err := g.st.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		g.log.Error("auth: audit row lost", "action", e.Action, "principal", e.Principal, "result", e.Result, "err", err)
	}
}

type auditKey struct{}

// auditNote is what a handler adds to its request's audit row.
type auditNote struct{ target, detail string }

// SetAuditTarget names what a state-changing request acted on (an author,
// a device, an envelope digest), for its audit row. Handlers write no
// audit rows themselves; outside the gate this does nothing.
func SetAuditTarget(ctx context.Context, target string) {
	if n, ok := ctx.Value(auditKey{}).(*auditNote); ok {
		n.target = target
	}
}

// SetAuditDetail adds a detail to the request's audit row.
func SetAuditDetail(ctx context.Context, detail string) {
	if n, ok := ctx.Value(auditKey{}).(*auditNote); ok {
		n.detail = joinDetail(n.detail, detail)
	}
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// bufferedResponse holds a state-changing request's response until its
// audit row is written. Those responses are small JSON documents.
type bufferedResponse struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// result is the audit row's result: "ok", or the status and the error
// code of an API error body.
func (b *bufferedResponse) result() string {
	if b.status < 400 {
		return "ok"
	}
	var e struct {
		Code string `json:"code"`
	}
	res := "failed: " + strconv.Itoa(b.status)
	if json.Unmarshal(b.body.Bytes(), &e) == nil && e.Code != "" {
		res += " " + e.Code
	}
	return res
}

func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes()) // a client that hung up has its answer in the audit trail
}
