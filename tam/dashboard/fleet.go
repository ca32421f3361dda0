package dashboard

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/teeup/teeup/tam/store"
)

// Count is one bar of a tally: a label and how many.
type Count struct {
	Label string
	N     int
}

// RolloutRow is a rollout on the fleet page with its totals.
type RolloutRow struct {
	Rollout store.Rollout
	Total   store.WaveProgress
}

// DeviceRow is a device on the fleet page.
type DeviceRow struct {
	Device store.Device
	State  string
}

// Fleet is the fleet page: devices by state, by attestation result and
// by version, the rollouts, and the first devices.
type Fleet struct {
	Devices       int
	ByState       []Count
	ByAttestation []Count
	Versions      []Count
	Rollouts      []RolloutRow
	Shown         []DeviceRow
	More          int
}

// deviceState is what the fleet page groups devices by: never seen,
// failing (its last session left an error), or up (seen, no error).
func deviceState(d store.Device) string {
	switch {
	case d.LastSeen.IsZero():
		return "never seen"
	case d.LastError != "":
		return "failing"
	}
	return "up"
}

// tally sorts counts by label.
func tally(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Count{Label: k, N: m[k]})
	}
	return out
}

// HandleFleet is GET /: the fleet at a glance.
func (d *Dashboard) HandleFleet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	devs, err := d.st.ListDevices(ctx)
	if err != nil {
		d.storeError(w, err)
		return
	}
	ros, err := d.st.ListRollouts(ctx)
	if err != nil {
		d.storeError(w, err)
		return
	}
	f := Fleet{Devices: len(devs)}
	states, atts, versions := map[string]int{}, map[string]int{}, map[string]int{}
	for i, dev := range devs {
		st := deviceState(dev)
		states[st]++
		att := dev.Attestation.Status
		if att == "" {
			att = "not appraised"
		}
		atts[att]++
		for _, tc := range dev.TCs {
			versions[fmt.Sprintf("%s @ %d", tc.Component, tc.SequenceNumber)]++
		}
		if i < MaxDevicesShown {
			f.Shown = append(f.Shown, DeviceRow{Device: dev, State: st})
		}
	}
	f.More = len(devs) - len(f.Shown)
	f.ByState, f.ByAttestation, f.Versions = tally(states), tally(atts), tally(versions)
	// Newest first: the rollout an operator watches is the last made.
	for _, ro := range slices.Backward(ros) {
		p, err := d.ro.Progress(ctx, ro.ID)
		if err != nil {
			d.storeError(w, err)
			return
		}
		f.Rollouts = append(f.Rollouts, RolloutRow{Rollout: p.Rollout, Total: p.Total})
	}
	p := d.newPage(r, "the fleet", f)
	for _, ro := range f.Rollouts {
		if ro.Rollout.State == store.RolloutRunning {
			p.Refresh = RefreshSeconds
		}
	}
	d.render(w, "fleet", p)
}
