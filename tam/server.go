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
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// Config is what a TAM server needs. Store and Key are required, and
// BaseURL; the rest have defaults.
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
	// Gate wraps every operator API handler (issue 17, tam/auth): it
	// authenticates the caller, authorizes the route (r.Pattern names
	// it), rate-limits and writes the audit trail. Without a gate, the
	// operator API refuses every request (401): the TAM has no open API.
	Gate func(http.Handler) http.Handler
	// Wrap wraps the whole handler, TEEP routes included (per-source
	// rate limits, request logs); nil for none.
	Wrap func(http.Handler) http.Handler
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
	mux     *http.ServeMux
	handler http.Handler
	keyPEM  []byte
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
	ts, err := teepsrv.New(teepsrv.Config{Store: cfg.Store, Key: cfg.Key, Numbering: cfg.Numbering,
		TaggedEnvelopes: cfg.TaggedEnvelopes, Policy: cfg.Policy, Now: cfg.Now, Rand: cfg.Rand, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	keyPEM, err := PublicKeyPEM(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Server{cfg: cfg, teep: ts, mux: http.NewServeMux(), keyPEM: keyPEM}
	s.routes()
	s.handler = s.mux
	if cfg.Wrap != nil {
		s.handler = cfg.Wrap(s.mux)
	}
	return s, nil
}

// routes is the TAM's whole HTTP surface (docs: DESIGN14's table). The
// catalog's and auth's handlers are added here, each operator route
// through s.api so that none escapes the gate.
func (s *Server) routes() {
	// TEEP (draft-ietf-teep-otrp-over-http): authenticated by the
	// signatures inside the messages, not by the gate.
	s.mux.HandleFunc("POST /tam", s.teep.ServeTEEP)
	s.mux.HandleFunc("GET /tam/poll", s.teep.ServePoll)
	// Public: what devices are told to trust.
	s.mux.HandleFunc("GET /api/v1/tam-key", s.tamKey)
	// Operator API (issue 14's catalog, issue 17's users and tokens):
	// s.api("POST /api/v1/...", handler)
}

// api routes pattern to h behind the gate.
func (s *Server) api(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.gate(h))
}

// gate is Config.Gate, or a refusal of every request when there is none.
func (s *Server) gate(h http.Handler) http.Handler {
	if s.cfg.Gate != nil {
		return s.cfg.Gate(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "the operator API is closed: this TAM has no gate")
	})
}

// Handler is the TAM's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer is an http.Server for the TAM with its timeouts and TLS
// configuration; a Shutdown of it also ends the long polls waiting.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{Handler: s.handler, TLSConfig: s.cfg.TLS,
		ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout, WriteTimeout: WriteTimeout,
		IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
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
