package auth

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A browser that opens a dashboard page without a live login is sent to
// the login page, which brings it back to that page once it logs in.
// API clients (a bearer token, an Accept without HTML, the /api/ routes,
// /metrics, the TEEP endpoint) keep their 401: they cannot log in.

// NextParam is the query parameter of GET /login, and the form field of
// POST /login, naming the page to go to once logged in.
const NextParam = "next"

// ErrNotLocal: a next that is not a path on this TAM (an absolute or
// scheme-relative URL, a backslash a browser reads as a slash, a control
// character, or over MaxNextLen), which would make the login an open
// redirect.
var ErrNotLocal = errors.New("auth: next is not a local path")

// LocalPath checks that next is a path on this TAM: it starts with one
// slash, names no scheme or host however a browser reads it, and holds no
// backslash or control character.
func LocalPath(next string) error {
	switch {
	case len(next) > MaxNextLen:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrNotLocal, len(next), MaxNextLen)
	case !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//"):
		return fmt.Errorf("%w: %q does not start with one slash", ErrNotLocal, next)
	case strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }):
		// Browsers read a backslash as a slash ("/\evil.example" is
		// "//evil.example") and drop tabs and newlines from URLs.
		return fmt.Errorf("%w: %q holds a backslash or a control character", ErrNotLocal, next)
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("%w: %q", ErrNotLocal, next)
	}
	return nil
}

// opensPage reports whether r is a browser opening a page: a GET or HEAD
// without an Authorization header whose Accept takes HTML.
func opensPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.Header.Get("Authorization") != "" {
		return false
	}
	for _, accept := range r.Header.Values("Accept") {
		for _, part := range strings.Split(accept, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "text/html" && mt != "application/xhtml+xml" {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q <= 0 {
				continue // q=0: not acceptable
			}
			return true
		}
	}
	return false
}

// toLogin answers a browser opening a page it may not see yet: 303 to the
// login page with the page as next, when it is a local path.
func toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if page := r.URL.RequestURI(); LocalPath(page) == nil {
		target += "?" + url.Values{NextParam: {page}}.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}
