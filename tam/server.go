package tam

import (
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/dashboard"
	"github.com/teeup/teeup/tam/metrics"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// Config is what a TAM server needs. Store, Key and BaseURL are
// required; the rest have defaults.
type Config struct {
	Store store.Store
	// Key is the TAM's signing key (LoadOrCreateKey).
	Key *ecdsa.PrivateKey
	// BaseURL is the TAM's public base URL, as devices reach it
	// (https://tam.example:8443): detached payloads are at
	// {BaseURL}/payloads/{sha256hex}.
	BaseURL string
	// Numbering is the TEEP numbering the TAM's sessions speak (draft-26,
	// the zero value, or the earlier one).
	Numbering teep.Numbering
	// TaggedEnvelopes sends the SUIT envelopes of an Update tagged (107).
	TaggedEnvelopes bool
	// Policy is the appraisal's policy beyond the reference values.
	Policy attest.Policy
	// Gate is the gate every route goes through (issue 17, tam/auth):
	// the operator routes are authenticated, authorized and audited
	// there, the public ones (TEEP, the long poll, the TAM key) bounded
	// and rate-limited. Nil makes one over Store with auth's defaults.
	Gate *auth.Gate
	// TEEPRate is the per-source rate of the TEEP endpoint and the long
	// poll of the gate New makes (auth.NewRate; zero: auth's default).
	// Unused with Gate.
	TEEPRate auth.Rate
	// TLS is the HTTPS configuration of HTTPServer; nil serves plain
	// HTTP, which the command line allows only when asked by name.
	TLS *tls.Config
	// Now is the clock (time.Now if nil); Rand the randomness of tokens
	// and challenges (crypto/rand if nil).
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Server is a TAM. It is safe for concurrent use.
type Server struct {
	cfg     Config
	teep    *teepsrv.Server
	gate    *auth.Gate
	catalog *catalog.Catalog
	// rollouts is the rollout engine (issue 15), metrics the registry of
	// GET /metrics.
	rollouts *rollout.Engine
	metrics  *metrics.Metrics
	// dashboard is the web page (issue 15).
	dashboard *dashboard.Dashboard
	mux       *http.ServeMux
	keyPEM    []byte
}

// ErrConfig: a Config that misses a part or holds a wrong one.
var ErrConfig = errors.New("tam: configuration")

// New makes a TAM server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Key == nil {
		return nil, fmt.Errorf("%w: a store and a key are required", ErrConfig)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL %q: want http(s)://host[:port][/path]", ErrConfig, cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var ts *teepsrv.Server // made below: the engine wakes its long polls
	eng, err := rollout.New(rollout.Config{Store: cfg.Store, Now: cfg.Now, Rand: cfg.Rand, Logger: cfg.Logger,
		Notify: func(device string) { ts.Notify(device) }})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	mets := metrics.New(cfg.Store, cfg.Logger)
	ts, err = teepsrv.New(teepsrv.Config{Store: cfg.Store, Key: cfg.Key, Numbering: cfg.Numbering,
		TaggedEnvelopes: cfg.TaggedEnvelopes, Policy: cfg.Policy, Rollouts: eng, Observer: mets,
		Now: cfg.Now, Rand: cfg.Rand, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	gate := cfg.Gate
	if gate == nil {
		if gate, err = auth.New(auth.Config{Store: cfg.Store, Now: cfg.Now, Rand: cfg.Rand, Logger: cfg.Logger, TEEPRate: cfg.TEEPRate}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	keyPEM, err := PublicKeyPEM(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Server{cfg: cfg, teep: ts, gate: gate, rollouts: eng, metrics: mets, mux: http.NewServeMux(), keyPEM: keyPEM}
	suitKey, err := suit.NewSigningKey(suit.AlgESP256, cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if s.catalog, err = catalog.New(catalog.Config{Store: cfg.Store, Key: suitKey, PublicURL: cfg.BaseURL,
		Now: cfg.Now, Rand: cfg.Rand, Notify: s.Notify}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if s.dashboard, err = dashboard.New(dashboard.Config{Store: cfg.Store, Rollouts: eng, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.routes()
	return s, nil
}

// routes is the TAM's whole HTTP surface, every route through the gate
// by its name in auth.Routes (method, pattern, roles, body bound): a
// route that is not in that table cannot be registered.
func (s *Server) routes() {
	g := s.gate
	// TEEP (draft-ietf-teep-otrp-over-http): public, authenticated by
	// the signatures inside the messages.
	g.Handle(s.mux, auth.RouteTEEP, http.HandlerFunc(s.teep.ServeTEEP))
	g.Handle(s.mux, auth.RoutePoll, http.HandlerFunc(s.teep.ServePoll))
	// Public: what devices are told to trust, and the payloads, whose
	// integrity the manifests that name their digests give.
	g.Handle(s.mux, auth.RouteTAMKey, http.HandlerFunc(s.tamKey))
	c := s.catalog
	g.Handle(s.mux, auth.RoutePayload, http.HandlerFunc(c.ServePayload))
	// The catalog (issue 14): authors, publish, personalization, devices,
	// status.
	g.Handle(s.mux, auth.RouteAuthorAdd, http.HandlerFunc(c.HandleAddAuthor))
	g.Handle(s.mux, auth.RouteAuthorList, http.HandlerFunc(c.HandleListAuthors))
	g.Handle(s.mux, auth.RoutePublish, http.HandlerFunc(c.HandlePublish))
	g.Handle(s.mux, auth.RoutePersonalize, http.HandlerFunc(c.HandlePersonalize))
	g.Handle(s.mux, auth.RouteDeviceAdd, http.HandlerFunc(c.HandleAddDevice))
	g.Handle(s.mux, auth.RouteDeviceList, http.HandlerFunc(c.HandleListDevices))
	g.Handle(s.mux, auth.RouteStatus, http.HandlerFunc(c.HandleStatus))
	g.Handle(s.mux, auth.RouteWithdrawalAdd, http.HandlerFunc(c.HandleWithdraw))
	g.Handle(s.mux, auth.RouteWithdrawalList, http.HandlerFunc(c.HandleListWithdrawals))
	g.Handle(s.mux, auth.RouteWithdrawalCancel, http.HandlerFunc(c.HandleCancelWithdrawal))
	// The fleet (issue 15): groups, releases, rollouts, device tags; the
	// metrics.
	ro := s.rollouts
	g.Handle(s.mux, auth.RouteGroupAdd, http.HandlerFunc(ro.HandleAddGroup))
	g.Handle(s.mux, auth.RouteGroupList, http.HandlerFunc(ro.HandleListGroups))
	g.Handle(s.mux, auth.RouteGroupGet, http.HandlerFunc(ro.HandleGetGroup))
	g.Handle(s.mux, auth.RouteReleaseAdd, http.HandlerFunc(ro.HandleAddRelease))
	g.Handle(s.mux, auth.RouteReleaseList, http.HandlerFunc(ro.HandleListReleases))
	g.Handle(s.mux, auth.RouteRolloutCreate, http.HandlerFunc(ro.HandleCreateRollout))
	g.Handle(s.mux, auth.RouteRolloutList, http.HandlerFunc(ro.HandleListRollouts))
	g.Handle(s.mux, auth.RouteRolloutGet, http.HandlerFunc(ro.HandleGetRollout))
	g.Handle(s.mux, auth.RouteRolloutProgress, http.HandlerFunc(ro.HandleProgress))
	g.Handle(s.mux, auth.RouteRolloutDevices, http.HandlerFunc(ro.HandleDeliveries))
	g.Handle(s.mux, auth.RouteRolloutPause, http.HandlerFunc(ro.HandlePause))
	g.Handle(s.mux, auth.RouteRolloutResume, http.HandlerFunc(ro.HandleResume))
	g.Handle(s.mux, auth.RouteRolloutCancel, http.HandlerFunc(ro.HandleCancel))
	g.Handle(s.mux, auth.RouteDeviceTagsSet, http.HandlerFunc(ro.HandleSetTags))
	g.Handle(s.mux, auth.RouteDeviceTagsGet, http.HandlerFunc(ro.HandleTags))
	g.Handle(s.mux, auth.RouteMetrics, s.metrics.Handler())
	// The dashboard (issue 15): pages for viewers, buttons for operators.
	d := s.dashboard
	g.Handle(s.mux, auth.RouteDashboard, http.HandlerFunc(d.HandleFleet))
	g.Handle(s.mux, auth.RouteDashboardAsset, http.HandlerFunc(d.HandleAsset))
	g.Handle(s.mux, auth.RouteDashboardRollout, http.HandlerFunc(d.HandleRollout))
	g.Handle(s.mux, auth.RouteDashboardDevice, http.HandlerFunc(d.HandleDevice))
	g.Handle(s.mux, auth.RouteDashboardPause, http.HandlerFunc(d.HandlePause))
	g.Handle(s.mux, auth.RouteDashboardResume, http.HandlerFunc(d.HandleResume))
	g.Handle(s.mux, auth.RouteDashboardCancel, http.HandlerFunc(d.HandleCancel))
	// Operator side: users, tokens, the audit trail, the dashboard login.
	g.Register(s.mux)
}

// Handler is the TAM's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// HTTPServer is an http.Server for the TAM with the gate's slow-client
// bounds and the TLS configuration; a Shutdown of it also ends the long
// polls waiting.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{Handler: s.mux, TLSConfig: s.cfg.TLS} //nolint:gosec // G112: auth.HardenServer sets ReadHeaderTimeout and the other bounds next
	auth.HardenServer(srv)
	srv.RegisterOnShutdown(s.Close)
	return srv
}

// Notify tells the long polls that the TAM has something new for device,
// or for every device when device is empty. The operator API's handlers
// call it after a change is stored: a publish (all), a personalization or
// a registration (that device).
func (s *Server) Notify(device string) { s.teep.Notify(device) }

// Close ends the long polls waiting.
func (s *Server) Close() { s.teep.Close() }

// KeyThumbprint is the RFC 9679 thumbprint of the TAM key (its kid).
func (s *Server) KeyThumbprint() []byte { return s.teep.KID() }

// BaseURL is the TAM's public base URL, without a trailing slash.
func (s *Server) BaseURL() string { return s.cfg.BaseURL }

// PayloadURL is where devices fetch the detached payload of SHA-256
// digest.
func (s *Server) PayloadURL(digest []byte) string {
	return fmt.Sprintf("%s/payloads/%x", s.cfg.BaseURL, digest)
}

func (s *Server) tamKey(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.keyPEM) // a client that hung up has nothing more to hear
}

// Rollouts is the TAM's rollout engine (the dashboard's handlers use it).
func (s *Server) Rollouts() *rollout.Engine { return s.rollouts }
