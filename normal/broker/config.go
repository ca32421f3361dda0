package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/fetch"
)

// Config sets up a Broker. TAM and SW are required; the zero value of
// every other field means its default, real time and real randomness.
type Config struct {
	// TAM is the TAM's base URL (http or https): the TEEP endpoint is
	// TAM/tam, the long poll TAM/tam/poll.
	TAM string
	// SW is the channel to the secure world, where the Agent is.
	SW *ipc.Client
	// Client sends the requests, to the TAM and for the payloads; nil
	// means a client of its own with TLS. It must have no Timeout that
	// would cut a long poll short: the broker times each request itself.
	Client *http.Client
	// TLS, if set, is the TLS configuration of the client the broker
	// makes when Client is nil: RootCAs from TLSConfig trusts a TAM's
	// self-signed certificate.
	TLS *tls.Config
	// Fetch downloads the payloads; nil means a downloader with Client.
	Fetch *fetch.Downloader
	// DeviceID is this device's ID at the TAM: the lowercase hex of the
	// RFC 9679 thumbprint of the Agent's key. Without it the broker does
	// not long-poll; it runs a session every PollInterval only.
	DeviceID string
	// PollInterval is the time between two sessions when the TAM does not
	// ask for one sooner.
	PollInterval time.Duration
	// PollWait is how long the TAM may hold a long poll before it answers
	// 204 (it is sent as the wait parameter).
	PollWait time.Duration
	// RequestTimeout bounds one HTTP request (a long poll gets PollWait
	// more); SessionTimeout bounds a whole session, payloads included.
	RequestTimeout, SessionTimeout time.Duration
	// MaxAttempts is the number of attempts of one request; transient
	// failures (the network, 408, 429, 5xx) are retried, others are not.
	MaxAttempts int
	// BackoffInitial is the wait after the first failed attempt, doubled
	// after each further one up to BackoffMax; each wait is drawn
	// uniformly from its upper half (jitter, so that devices that failed
	// together do not retry together). A 429's or 503's Retry-After
	// lengthens the wait, up to MaxRetryAfter.
	BackoffInitial, BackoffMax time.Duration
	// Rand draws the jitter; nil means a generator seeded at random.
	// Tests pass a seeded one.
	Rand *rand.Rand
	// Sleep waits d or until ctx ends, and then returns context.Cause(ctx);
	// nil means a real timer. Tests inject one that records d.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Progress, if set, gets one line per step of a session (for a user
	// who waits for it).
	Progress func(string)
	// Log receives what the broker does; nil discards it.
	Log *slog.Logger
	// Lock, if set, is held for each session: the normal world shares it
	// with its other users of the secure world's update service (a local
	// update), which takes one install set at a time. Nil: a lock of the
	// broker's own.
	Lock sync.Locker
}

// Broker relays TEEP sessions between a TAM and the secure world's Agent.
// It is safe for concurrent use; its sessions run one at a time (Session
// holds Config.Lock), for the secure world takes one install set at a
// time.
type Broker struct {
	endpoint, pollURL string
	sw                *ipc.Client
	client            *http.Client
	fetch             *fetch.Downloader
	interval, wait    time.Duration
	reqTimeout        time.Duration
	sessionTimeout    time.Duration
	maxAttempts       int
	initial, max      time.Duration
	sleep             func(context.Context, time.Duration) error
	now               func() time.Time
	progress          func(string)
	log               *slog.Logger

	randMu sync.Mutex // *rand.Rand is not safe for concurrent use
	rand   *rand.Rand

	session sync.Locker // held for a session

	// eager counts the long polls in a row the TAM answered 200 at once
	// (Run's alone).
	eager int
}

// New checks cfg and returns a Broker, or an error wrapping ErrConfig.
func New(cfg Config) (*Broker, error) {
	base, err := baseURL(cfg.TAM)
	if err != nil {
		return nil, err
	}
	if cfg.SW == nil {
		return nil, fmt.Errorf("%w: no secure world (SW)", ErrConfig)
	}
	if err := checkDeviceID(cfg.DeviceID); err != nil {
		return nil, err
	}
	b := &Broker{
		endpoint:       base + "/tam",
		sw:             cfg.SW,
		client:         cfg.Client,
		fetch:          cfg.Fetch,
		interval:       orDefault(cfg.PollInterval, DefaultPollInterval),
		wait:           orDefault(cfg.PollWait, DefaultPollWait),
		reqTimeout:     orDefault(cfg.RequestTimeout, DefaultRequestTimeout),
		sessionTimeout: orDefault(cfg.SessionTimeout, DefaultSessionTimeout),
		maxAttempts:    orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		initial:        orDefault(cfg.BackoffInitial, DefaultBackoffInitial),
		max:            orDefault(cfg.BackoffMax, DefaultBackoffMax),
		rand:           cfg.Rand,
		sleep:          cfg.Sleep,
		now:            cfg.Now,
		progress:       cfg.Progress,
		log:            cfg.Log,
		session:        cfg.Lock,
	}
	switch {
	case b.interval < 0, b.wait < 0, b.reqTimeout < 0, b.sessionTimeout < 0, b.initial < 0, b.max < 0:
		return nil, fmt.Errorf("%w: a negative duration", ErrConfig)
	case b.wait > MaxPollWait:
		return nil, fmt.Errorf("%w: PollWait %v exceeds %v", ErrConfig, b.wait, MaxPollWait)
	case b.maxAttempts < 0 || b.maxAttempts > MaxAttemptsLimit:
		return nil, fmt.Errorf("%w: MaxAttempts %d not in [1, %d]", ErrConfig, b.maxAttempts, MaxAttemptsLimit)
	case b.initial > b.max:
		return nil, fmt.Errorf("%w: BackoffInitial %v exceeds BackoffMax %v", ErrConfig, b.initial, b.max)
	}
	if cfg.DeviceID != "" {
		b.pollURL = base + "/tam/poll?" + url.Values{"device": {cfg.DeviceID}, "wait": {b.wait.String()}}.Encode()
	}
	if b.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg.TLS
		b.client = &http.Client{Transport: t}
	}
	if b.fetch == nil {
		if b.fetch, err = fetch.New(fetch.Config{Client: b.client}); err != nil {
			return nil, err
		}
	}
	if b.rand == nil {
		// Jitter only spreads retries: nothing rests on it being unpredictable.
		b.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) //nolint:gosec // G404: jitter, not a secret
	}
	if b.sleep == nil {
		b.sleep = sleepContext
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.session == nil {
		b.session = &sync.Mutex{}
	}
	return b, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// baseURL checks the TAM's base URL and returns it without a trailing
// slash.
func baseURL(tam string) (string, error) {
	u, err := url.Parse(tam)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: TAM URL: %v", ErrConfig, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: TAM URL %q is not http or https", ErrConfig, tam)
	case u.Host == "":
		return "", fmt.Errorf("%w: TAM URL %q has no host", ErrConfig, tam)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%w: TAM URL %q has a query or a fragment", ErrConfig, tam)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// checkDeviceID accepts "" (no long poll) or lowercase hex.
func checkDeviceID(id string) error {
	if len(id) > maxDeviceID || len(id)%2 != 0 {
		return fmt.Errorf("%w: device ID of %d characters", ErrConfig, len(id))
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: device ID %q is not lowercase hex", ErrConfig, id)
		}
	}
	return nil
}

// TLSConfig returns a TLS configuration that trusts the certificates in
// caPEM (a TAM's self-signed certificate, or the CA that signed it) and
// those alone. It is an error wrapping ErrConfig if caPEM holds none.
func TLSConfig(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%w: no PEM certificate in the TAM's CA", ErrConfig)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// sleepContext is the real Sleep.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
