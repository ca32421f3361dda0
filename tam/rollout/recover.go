package rollout

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// Recover checks the thresholds of every running rollout. An answer is
// recorded in one transaction and its rollouts' thresholds are checked
// after (Settle): a TAM stopped between the two leaves a wave that
// reached its threshold unstarted, and no later answer may come to start
// it (its devices had all answered). tam serve runs Recover when it
// starts, and the TEEP endpoint when a session opens after a Settle
// failed.
func (e *Engine) Recover(ctx context.Context) error {
	rs, err := e.st.ListRollouts(ctx)
	if err != nil {
		return fmt.Errorf("rollout: recover: %w", err)
	}
	for _, r := range rs {
		if r.State != store.RolloutRunning {
			continue
		}
		if err := e.evaluate(ctx, r.ID); err != nil {
			return fmt.Errorf("rollout: recover %s: %w", r.ID, err)
		}
	}
	return nil
}
