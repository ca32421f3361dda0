package teepsrv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

// Config is what a Server needs. Store and Key are required; the rest
// have defaults.
type Config struct {
	Store store.Store
	// Key is the TAM's signing key: ECDSA P-256, signing ESP256. It signs
	// the TEEP messages and the attestation results (EARs) recorded.
	Key crypto.Signer
	// Numbering is the TEEP codepoint numbering the TAM's sessions speak
	// (draft-26, the zero value, or the earlier one). Messages from an
	// Agent are read in whichever numbering the codec finds them in.
	Numbering teep.Numbering
	// TaggedEnvelopes sends the SUIT envelopes of an Update tagged (107),
	// as deployed peers of the IETF hackathons expect; draft-26's
	// manifest-list holds them untagged (the default).
	TaggedEnvelopes bool
	// Policy is the appraisal's policy beyond the reference values.
	Policy attest.Policy
	// Rollouts is the rollout engine that offers the envelopes held for a
	// release (issue 15); nil: the TAM delivers only what is published
	// for direct delivery.
	Rollouts *rollout.Engine
	// Observer hears sessions, appraisals and answers (metrics); nil for
	// none.
	Observer Observer
	// SessionLifetime is how long a session waits for the device's next
	// message (DefaultSessionLifetime if 0).
	SessionLifetime time.Duration
	// Now is the clock (time.Now if nil); Rand the randomness of tokens
	// and challenges (crypto/rand if nil).
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Server is the TAM's TEEP endpoint and long poll. It is safe for
// concurrent use; all it keeps between requests is in the store, except
// the long poll's notices (after a restart, every device's first long poll answers at once).
type Server struct {
	cfg     Config
	sign    *suit.SigningKey
	kid     []byte // the TAM key's thumbprint
	suites  []teep.CipherSuite
	notices *notifier
	log     *slog.Logger
	// swept is when expired sessions were last dropped (UnixNano; 0:
	// not yet), sweep.go.
	swept atomic.Int64
	// unsettled: an answer was recorded but its rollouts' thresholds
	// could not be checked (rollouts.go resettle).
	unsettled atomic.Bool
}

// ErrConfig: a Config that misses a part or holds a wrong one.
var ErrConfig = errors.New("teepsrv: configuration")

// New makes a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Key == nil {
		return nil, fmt.Errorf("%w: a store and a key are required", ErrConfig)
	}
	if k, ok := cfg.Key.Public().(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the TAM key must be ECDSA P-256 (ESP256)", ErrConfig)
	}
	if cfg.Numbering != teep.Draft26 && cfg.Numbering != teep.Legacy {
		return nil, fmt.Errorf("%w: numbering %d", ErrConfig, cfg.Numbering)
	}
	sign, err := suit.NewSigningKey(teep.AlgESP256, cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	kid, err := teep.Thumbprint(cfg.Key.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	return &Server{cfg: cfg, sign: sign, kid: kid, notices: newNotifier(), log: cfg.Logger,
		// The suites an Agent may sign with: the two draft-26 mandates.
		suites: []teep.CipherSuite{teep.SuiteESP256, teep.SuiteEd25519}}, nil
}

// KID is the TAM key's RFC 9679 thumbprint, the kid of its messages.
func (s *Server) KID() []byte { return append([]byte(nil), s.kid...) }

// Notify tells the long polls that the TAM has something new for device,
// or for every device when device is empty (a publish). The catalog's
// handlers call it after a change is stored.
func (s *Server) Notify(device string) { s.notices.notify(device) }

// Close ends the long polls waiting (they answer 503 at once), so that a
// graceful shutdown does not wait for them.
func (s *Server) Close() { s.notices.close() }
