package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config is what a Dashboard needs; Store and Rollouts are required.
type Config struct {
	Store    store.Store
	Rollouts *rollout.Engine
	// Now is the clock (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Dashboard serves the pages. It is safe for concurrent use.
type Dashboard struct {
	st     store.Store
	ro     *rollout.Engine
	now    func() time.Time
	log    *slog.Logger
	pages  map[string]*template.Template
	assets fs.FS
}

// ErrConfig: a Config that misses a part.
var ErrConfig = errors.New("dashboard: configuration")

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
	"percent": func(part, whole int) int {
		if whole == 0 {
			return 0
		}
		return part * 100 / whole
	},
}

// New makes a Dashboard.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Store == nil || cfg.Rollouts == nil {
		return nil, fmt.Errorf("%w: a store and a rollout engine are required", ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{st: cfg.Store, ro: cfg.Rollouts, now: cfg.Now, log: cfg.Logger, pages: map[string]*template.Template{}}
	for _, name := range []string{"fleet", "rollout", "device"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("%w: template %s: %w", ErrConfig, name, err)
		}
		d.pages[name] = t
	}
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.assets = sub
	return d, nil
}

// page is what every page's layout shows: who is logged in, whether they
// may act, and the session's CSRF token for the forms.
type page struct {
	Title     string
	Principal string
	Operator  bool
	CSRF      string
	// Refresh reloads the page every that many seconds when positive.
	Refresh int
	Now     time.Time
	Body    any
}

func (d *Dashboard) newPage(r *http.Request, title string, body any) page {
	p := page{Title: title, CSRF: auth.CSRFToken(r.Context()), Now: d.now(), Body: body}
	if who, ok := auth.PrincipalFrom(r.Context()); ok {
		p.Principal = who.Name
		p.Operator = slices.Contains(who.Roles, store.RoleOperator)
	}
	return p
}

// render writes the page whole or, when the template fails, a 500: never
// half a page.
func (d *Dashboard) render(w http.ResponseWriter, name string, p page) {
	var buf bytes.Buffer
	if err := d.pages[name].Execute(&buf, p); err != nil {
		d.log.Error("dashboard: render", "page", name, "err", err)
		d.fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes()) // a browser that hung up has nothing more to see
}

// fail answers an error as a small page (html/template escapes msg).
func (d *Dashboard) fail(w http.ResponseWriter, status int, msg string) {
	secure(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, struct {
		Status int
		Msg    string
	}{status, msg}) // as above
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>teeup TAM: {{.Status}}</title></head>
<body><h1>{{.Status}}</h1><p id="error">{{.Msg}}</p><p><a href="/">the fleet</a></p></body></html>
`))

// storeError answers err with its status (rollout.StatusOf): 404 for a
// rollout or device that is not there, 409 for a move that is not
// allowed, 500 (logged, not shown) for a fault.
func (d *Dashboard) storeError(w http.ResponseWriter, err error) {
	status, _ := rollout.StatusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		d.log.Error("dashboard: store", "err", err)
		msg = "internal error"
	}
	d.fail(w, status, msg)
}

// HandleAsset is GET /dashboard/assets/{file}: the embedded stylesheet.
func (d *Dashboard) HandleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(d.assets, name)
	if err != nil || !fs.ValidPath(name) {
		d.fail(w, http.StatusNotFound, "no such asset")
		return
	}
	secure(w.Header())
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write(b) //nolint:gosec // G705: an embedded stylesheet of ours, its name a valid path of the embedded FS
}
