package rollout

import (
	"context"
	"errors"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// evaluate applies a running rollout's thresholds to its counts: a
// started wave whose failed share reached the error threshold halts it;
// every delivery final once the last wave started completes it; the
// current wave's succeeded share reaching the success threshold starts the
// next wave (and the one after, if it is reached there already). Each
// step is a compare-and-set: a replica that loses the race leaves the
// step to the one that won.
func (e *Engine) evaluate(ctx context.Context, id string) error {
	for range store.MaxWaves + 1 {
		r, err := e.st.Rollout(ctx, id)
		if err != nil {
			return fmt.Errorf("rollout: %w", err)
		}
		if r.State != store.RolloutRunning {
			return nil
		}
		waves, err := e.st.Progress(ctx, id)
		if err != nil {
			return fmt.Errorf("rollout: %w", err)
		}
		open := 0
		for _, w := range waves {
			open += w.Pending + w.Sent + w.Installed
		}
		for _, w := range waves[:r.Wave+1] {
			if w.Failed*100 >= r.ErrorThreshold*w.Devices {
				reason := fmt.Sprintf("wave %d: %d of %d devices failed, the error threshold is %d%%", w.Wave, w.Failed, w.Devices, r.ErrorThreshold)
				return e.settle(ctx, r, store.RolloutHalted, reason)
			}
		}
		last := len(r.Waves) - 1
		if r.Wave == last && open == 0 {
			return e.settle(ctx, r, store.RolloutCompleted, "")
		}
		cur := waves[r.Wave]
		if r.Wave == last || cur.Succeeded*100 < r.SuccessThreshold*cur.Devices {
			return nil
		}
		err = e.st.AdvanceWave(ctx, id, r.Wave, e.cfg.Now())
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil
		case err != nil:
			return fmt.Errorf("rollout: %w", err)
		}
		e.log.Info("rollout wave started", "rollout", id, "wave", r.Wave+1)
		if err := e.notifyWave(ctx, id, r.Wave+1); err != nil {
			return err
		}
	}
	return nil
}

// settle moves a running rollout to halted or completed, unless another
// replica or operator moved it first.
func (e *Engine) settle(ctx context.Context, r store.Rollout, to store.RolloutState, reason string) error {
	err := e.st.SetRolloutState(ctx, r.ID, store.RolloutRunning, to, reason, e.cfg.Now())
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("rollout: %w", err)
	}
	if err == nil {
		e.log.Info("rollout "+string(to), "rollout", r.ID, "reason", reason)
	}
	return nil
}

// notifyWave wakes the long polls of a wave's devices, which may now
// receive the release.
func (e *Engine) notifyWave(ctx context.Context, id string, wave int) error {
	dels, err := e.st.Deliveries(ctx, id)
	if err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	for _, d := range dels {
		if d.Wave == wave {
			e.cfg.Notify(d.Device)
		}
	}
	return nil
}
