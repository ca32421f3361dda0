package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/store"
)

// SessionCookie is the dashboard login's cookie. The __Host- prefix makes
// browsers take it only from a secure origin, with Path=/ and no Domain,
// so that no sibling host can set or overwrite it.
const SessionCookie = "__Host-teeup-session"

// CSRFField is the form field, and CSRFHeader the header, that carry a
// session's CSRF token on a state-changing request made with the cookie.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

const sessionSecretBytes = 32

type sessionKey struct{}

// CSRFToken is the CSRF token of the request's login session, for the
// dashboard to put in every form it renders; empty when the request came
// with an API token.
func CSRFToken(ctx context.Context) string {
	s, ok := ctx.Value(sessionKey{}).(store.LoginSession)
	if !ok {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(s.CSRF)
}

func sessionHash(cookie string) []byte {
	h := sha256.Sum256([]byte(cookie))
	return h[:]
}

func (g *Gate) authenticateSession(ctx context.Context, cookie string, now time.Time) (identity, error) {
	if len(cookie) > MaxCookieLen {
		return identity{}, fmt.Errorf("%w: session cookie of %d bytes", ErrBadCredentials, len(cookie))
	}
	// The store is keyed by the cookie's hash, like tokens: a leaked
	// store row does not log anyone in.
	hash := sessionHash(cookie)
	s, err := g.st.LoginSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return identity{}, fmt.Errorf("%w: unknown session", ErrBadCredentials)
	}
	if err != nil {
		return identity{}, fmt.Errorf("look up session: %w", err)
	}
	if subtle.ConstantTimeCompare(s.Hash, hash) != 1 {
		return identity{}, fmt.Errorf("%w: unknown session", ErrBadCredentials)
	}
	if !now.Before(s.Expires) {
		return identity{}, fmt.Errorf("%w: session", ErrExpired)
	}
	p, err := g.principal(ctx, s.Principal)
	if err != nil {
		return identity{}, err
	}
	return identity{principal: p, session: &s}, nil
}

// checkCSRF is the synchronizer-token check of a state-changing request
// made with a session cookie: the session's CSRF token must come back in
// the X-CSRF-Token header or the csrf_token form field. A cross-site page
// can make the browser send the cookie (were SameSite not there) but
// cannot read the token.
func checkCSRF(r *http.Request, s *store.LoginSession) error {
	if crossOrigin(r) {
		return fmt.Errorf("%w: request from another origin", ErrCSRF)
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		// Only a form's own field: PostFormValue reads the body, which
		// MaxBytesReader bounds.
		got = r.PostFormValue(CSRFField)
	}
	tok, err := base64.RawURLEncoding.DecodeString(got)
	if got == "" || err != nil || subtle.ConstantTimeCompare(tok, s.CSRF) != 1 {
		return ErrCSRF
	}
	return nil
}

// crossOrigin reports whether the browser says r comes from another
// origin (Sec-Fetch-Site, or an Origin whose host is not ours).
func crossOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || u.Host != r.Host
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>teeup TAM: log in</title></head>
<body><h1>teeup TAM</h1>
{{if .Msg}}<p role="alert">{{.Msg}}</p>{{end}}
<form method="post" action="/login">
{{if .Next}}<input type="hidden" name="next" value="{{.Next}}">{{end}}
<label>Name <input name="name" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form></body></html>
`))

// loginPage is the dashboard's login form. It carries the page to
// return to (NextParam) only when that is a local path.
func (g *Gate) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get(NextParam)
	if LocalPath(next) != nil {
		next = ""
	}
	renderLogin(w, http.StatusOK, "", next)
}

func renderLogin(w http.ResponseWriter, status int, msg, next string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, struct{ Msg, Next string }{msg, next}) // a client that hung up gets nothing either way
}

// LoginForm is a parsed login form.
type LoginForm struct {
	Name, Password string
	// Next is the page to go to once logged in: a local path
	// (LocalPath), or empty for the dashboard.
	Next string
}

// ErrLoginForm: a login form that is not one (a missing or oversized
// field, a body that is not a form).
var ErrLoginForm = errors.New("auth: malformed login form")

// ParseLoginForm reads a login form (application/x-www-form-urlencoded)
// from body, at most MaxFormBody bytes: exactly one name and one password,
// each within its bounds, and at most one next, a local path (a next
// elsewhere is refused with ErrNotLocal too: the login redirects nowhere
// else).
func ParseLoginForm(body io.Reader) (LoginForm, error) {
	raw, err := io.ReadAll(io.LimitReader(body, MaxFormBody+1))
	if err != nil {
		return LoginForm{}, fmt.Errorf("%w: %w", ErrLoginForm, err)
	}
	if len(raw) > MaxFormBody {
		return LoginForm{}, fmt.Errorf("%w: over %d bytes", ErrLoginForm, MaxFormBody)
	}
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return LoginForm{}, fmt.Errorf("%w: %w", ErrLoginForm, err)
	}
	for k := range v {
		if k != "name" && k != "password" && k != NextParam {
			return LoginForm{}, fmt.Errorf("%w: unknown field %q", ErrLoginForm, k)
		}
	}
	if len(v["name"]) != 1 || len(v["password"]) != 1 || len(v[NextParam]) > 1 {
		return LoginForm{}, fmt.Errorf("%w: want one name, one password and at most one next", ErrLoginForm)
	}
	f := LoginForm{Name: v["name"][0], Password: v["password"][0], Next: v.Get(NextParam)}
	if f.Next != "" {
		if err := LocalPath(f.Next); err != nil {
			return LoginForm{}, fmt.Errorf("%w: %w", ErrLoginForm, err)
		}
	}
	if err := checkName(f.Name); err != nil {
		return LoginForm{}, fmt.Errorf("%w: %w", ErrLoginForm, err)
	}
	if f.Password == "" || len(f.Password) > MaxPasswordLen {
		return LoginForm{}, fmt.Errorf("%w: password of %d bytes", ErrLoginForm, len(f.Password))
	}
	return f, nil
}

// loginHandler checks a name and password and opens a session: a fresh
// random cookie (its hash is the store's key) and a fresh CSRF token,
// then goes to the form's next page, or the dashboard. Every attempt
// leaves an audit row.
func (g *Gate) loginHandler(w http.ResponseWriter, r *http.Request) {
	now := g.now()
	audit := store.AuditEntry{Time: now, Action: RouteLogin, Detail: "from " + source(r)}
	if crossOrigin(r) {
		audit.Result = "refused: csrf"
		g.appendAudit(r.Context(), audit)
		renderLogin(w, http.StatusForbidden, "Log in from the TAM's own page.", "")
		return
	}
	f, err := ParseLoginForm(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		audit.Result = "refused: bad_request"
		g.appendAudit(r.Context(), audit)
		renderLogin(w, status, "Name and password, please.", "")
		return
	}
	audit.Principal, audit.Target = f.Name, f.Name
	p, ok, err := g.checkLogin(r.Context(), f)
	if err != nil {
		g.log.Error("auth: login", "err", err)
		renderLogin(w, http.StatusInternalServerError, "The TAM failed; try again.", f.Next)
		return
	}
	if !ok {
		audit.Result = "refused: unauthenticated"
		g.appendAudit(r.Context(), audit)
		renderLogin(w, http.StatusUnauthorized, "Wrong name or password.", f.Next)
		return
	}
	secret := make([]byte, 2*sessionSecretBytes)
	if _, err := io.ReadFull(g.rand, secret); err != nil {
		g.log.Error("auth: login", "err", err)
		renderLogin(w, http.StatusInternalServerError, "The TAM failed; try again.", f.Next)
		return
	}
	cookie := base64.RawURLEncoding.EncodeToString(secret[:sessionSecretBytes])
	s := store.LoginSession{Hash: sessionHash(cookie), Principal: p.Name, CSRF: secret[sessionSecretBytes:],
		Created: now, Expires: now.Add(SessionLifetime)}
	if err := g.st.AddLoginSession(r.Context(), s); err != nil {
		g.log.Error("auth: login", "err", err)
		renderLogin(w, http.StatusInternalServerError, "The TAM failed; try again.", f.Next)
		return
	}
	audit.Result = "ok"
	g.appendAudit(r.Context(), audit)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: cookie, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionLifetime / time.Second)})
	dest := "/"
	if f.Next != "" {
		dest = f.Next // a local path: ParseLoginForm checked it
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// checkLogin reports whether f's password is the principal's. An unknown
// name, or one without a login, costs one hash like a wrong password.
func (g *Gate) checkLogin(ctx context.Context, f LoginForm) (store.Principal, bool, error) {
	p, err := g.st.Principal(ctx, f.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Principal{}, false, err
	}
	hash := p.PasswordHash
	if len(hash) == 0 {
		hash = g.dummyHash
	}
	ok, err := CheckPassword(hash, f.Password)
	if err != nil {
		return store.Principal{}, false, err
	}
	return p, ok && len(p.PasswordHash) > 0, nil
}

// logout ends the request's login session (the gate checked its CSRF
// token) and clears the cookie.
func (g *Gate) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := r.Context().Value(sessionKey{}).(store.LoginSession)
	if !ok {
		// An API token has no login to end (revoke it instead): nothing
		// to do, and nothing changed.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := g.st.DeleteLoginSession(r.Context(), s.Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
		g.log.Error("auth: logout", "err", err)
		apijson.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	SetAuditTarget(r.Context(), s.Principal)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAgeDelete})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
