package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// Config is what an Engine needs; Store is required.
type Config struct {
	Store store.Store
	// MaxSends bounds the Updates that carry a release to one device
	// (DefaultMaxSends if 0).
	MaxSends int
	// Notify wakes the long poll of a device (teepsrv.Server.Notify), or
	// of every device when empty: a wave started, a rollout resumed.
	// Nil for none.
	Notify func(device string)
	// Now is the clock (time.Now if nil); Rand the randomness of rollout
	// IDs (crypto/rand if nil).
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Engine runs rollouts. It is safe for concurrent use, and several
// Engines (TAM replicas) may share one store.
type Engine struct {
	cfg Config
	st  store.Store
	log *slog.Logger
}

// ErrConfig: a Config that misses a part.
var ErrConfig = errors.New("rollout: configuration")

// New makes an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: a store is required", ErrConfig)
	}
	if cfg.MaxSends <= 0 {
		cfg.MaxSends = DefaultMaxSends
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
	if cfg.Notify == nil {
		cfg.Notify = func(string) {}
	}
	return &Engine{cfg: cfg, st: cfg.Store, log: cfg.Logger}, nil
}

// Spec is a rollout an operator asks for.
type Spec struct {
	Group   string
	Release string
	Waves   []Wave
	// SuccessThreshold and ErrorThreshold are percentages of a wave's
	// devices, 1 to 100: succeeded to start the next wave, failed to halt.
	SuccessThreshold int
	ErrorThreshold   int
}

// Create starts a rollout of spec.Release to the devices spec.Group
// resolves to now, frozen into waves by device ID. Wave 0 starts at once.
func (e *Engine) Create(ctx context.Context, spec Spec) (store.Rollout, error) {
	if err := checkWaves(spec.Waves); err != nil {
		return store.Rollout{}, err
	}
	for _, th := range []struct {
		what string
		v    int
	}{{"success", spec.SuccessThreshold}, {"error", spec.ErrorThreshold}} {
		if th.v < 1 || th.v > 100 {
			return store.Rollout{}, fmt.Errorf("%w: %s threshold %d%%, not 1%% to 100%%", ErrInvalid, th.what, th.v)
		}
	}
	if _, err := e.st.Release(ctx, spec.Release); err != nil {
		return store.Rollout{}, fmt.Errorf("rollout: release %q: %w", spec.Release, err)
	}
	devices, err := e.Resolve(ctx, spec.Group)
	if err != nil {
		return store.Rollout{}, err
	}
	sizes := Sizes(spec.Waves, len(devices))
	if len(sizes) > store.MaxWaves {
		return store.Rollout{}, fmt.Errorf("%w: %d waves with the devices left over, more than %d", ErrInvalid, len(sizes), store.MaxWaves)
	}
	id := make([]byte, maxIDBytes)
	if _, err := io.ReadFull(e.cfg.Rand, id); err != nil {
		return store.Rollout{}, fmt.Errorf("rollout: draw an ID: %w", err)
	}
	now := e.cfg.Now()
	r := store.Rollout{ID: "ro-" + hex.EncodeToString(id), Group: spec.Group, Release: spec.Release, Waves: sizes,
		SuccessThreshold: spec.SuccessThreshold, ErrorThreshold: spec.ErrorThreshold, State: store.RolloutRunning,
		Created: now, Updated: now}
	if err := e.st.CreateRollout(ctx, r, devices); err != nil {
		return store.Rollout{}, fmt.Errorf("rollout: create: %w", err)
	}
	e.log.Info("rollout created", "rollout", r.ID, "group", r.Group, "release", r.Release, "waves", sizes)
	for _, d := range devices[:sizes[0]] {
		e.cfg.Notify(d)
	}
	return r, nil
}

// Pause stops a running rollout from sending anything new; what was sent
// is still recorded when the devices answer.
func (e *Engine) Pause(ctx context.Context, id, reason string) (store.Rollout, error) {
	return e.move(ctx, id, store.RolloutRunning, store.RolloutPaused, reason)
}

// Resume runs a paused rollout again, and starts the next wave at once
// if the answers recorded while it was paused reached the threshold.
func (e *Engine) Resume(ctx context.Context, id string) (store.Rollout, error) {
	if _, err := e.move(ctx, id, store.RolloutPaused, store.RolloutRunning, ""); err != nil {
		return store.Rollout{}, err
	}
	if err := e.evaluate(ctx, id); err != nil {
		return store.Rollout{}, err
	}
	e.cfg.Notify("")
	return e.st.Rollout(ctx, id)
}

// Cancel ends a rollout that is running, paused or halted; it sends
// nothing more, ever.
func (e *Engine) Cancel(ctx context.Context, id, reason string) (store.Rollout, error) {
	r, err := e.st.Rollout(ctx, id)
	if err != nil {
		return store.Rollout{}, fmt.Errorf("rollout: %w", err)
	}
	return e.move(ctx, id, r.State, store.RolloutCanceled, reason)
}

// move is one compare-and-set of the rollout's state; ErrConflict (the
// store's) when it is not in from, e.g. resuming a running rollout.
func (e *Engine) move(ctx context.Context, id string, from, to store.RolloutState, reason string) (store.Rollout, error) {
	if err := store.ValidRolloutMove(from, to); err != nil {
		if _, ferr := e.st.Rollout(ctx, id); ferr != nil {
			return store.Rollout{}, fmt.Errorf("rollout: %w", ferr)
		}
		return store.Rollout{}, fmt.Errorf("rollout %s: %w: %w", id, store.ErrConflict, err)
	}
	if err := e.st.SetRolloutState(ctx, id, from, to, reason, e.cfg.Now()); err != nil {
		return store.Rollout{}, fmt.Errorf("rollout: %w", err)
	}
	e.log.Info("rollout "+string(to), "rollout", id, "reason", reason)
	return e.st.Rollout(ctx, id)
}

// Progress is a rollout and its deliveries counted per wave and in all.
type Progress struct {
	Rollout store.Rollout
	Waves   []store.WaveProgress
	Total   store.WaveProgress // Wave is the number of waves started
}

// Progress is where rollout id is.
func (e *Engine) Progress(ctx context.Context, id string) (Progress, error) {
	r, err := e.st.Rollout(ctx, id)
	if err != nil {
		return Progress{}, fmt.Errorf("rollout: %w", err)
	}
	waves, err := e.st.Progress(ctx, id)
	if err != nil {
		return Progress{}, fmt.Errorf("rollout: %w", err)
	}
	p := Progress{Rollout: r, Waves: waves, Total: store.WaveProgress{Wave: r.Wave + 1}}
	for _, w := range waves {
		p.Total.Devices += w.Devices
		p.Total.Pending += w.Pending
		p.Total.Sent += w.Sent
		p.Total.Installed += w.Installed
		p.Total.Succeeded += w.Succeeded
		p.Total.Failed += w.Failed
	}
	return p, nil
}
