package dashboard

import (
	"net/http"

	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

// Rollout is a rollout's page: its waves with their counts, and its
// deliveries, failures first.
type Rollout struct {
	Progress   rollout.Progress
	Failed     []store.Delivery
	Deliveries []store.Delivery
	More       int
	// CanPause, CanResume and CanCancel: the moves its state allows.
	CanPause, CanResume, CanCancel bool
}

// HandleRollout is GET /dashboard/rollouts/{rollout}.
func (d *Dashboard) HandleRollout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("rollout")
	p, err := d.ro.Progress(ctx, id)
	if err != nil {
		d.storeError(w, err)
		return
	}
	dels, err := d.st.Deliveries(ctx, id)
	if err != nil {
		d.storeError(w, err)
		return
	}
	ro := Rollout{Progress: p}
	for _, del := range dels {
		if del.State == store.DeliveryFailed {
			ro.Failed = append(ro.Failed, del)
		}
	}
	if len(ro.Failed) > MaxDeliveriesShown {
		ro.Failed = ro.Failed[:MaxDeliveriesShown]
	}
	ro.Deliveries = dels[:min(len(dels), MaxDeliveriesShown)]
	ro.More = len(dels) - len(ro.Deliveries)
	state := p.Rollout.State
	ro.CanPause = state == store.RolloutRunning
	ro.CanResume = state == store.RolloutPaused
	ro.CanCancel = store.ValidRolloutMove(state, store.RolloutCanceled) == nil
	page := d.newPage(r, "rollout "+id, ro)
	if state == store.RolloutRunning {
		page.Refresh = RefreshSeconds
	}
	d.render(w, "rollout", page)
}
