package dashboard

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/teeup/teeup/tam/catalog"
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

// Fleet is the fleet page: the whole fleet counted (by state, by
// attestation result, by version, by last error), the rollouts, and one
// page of devices.
type Fleet struct {
	Devices       int
	ByState       []Count
	ByAttestation []Count
	Versions      []Count
	// MoreVersions is how many versions the tally leaves out.
	MoreVersions int
	LastErrors   []Count
	// OtherErrors counts the devices whose error the tally leaves out.
	OtherErrors int
	Rollouts    []RolloutRow
	// Shown are up to MaxDevicesShown devices whose IDs sort after After
	// ("" for the first page); Next is the After of the next page, ""
	// when no device follows; More counts the devices not shown.
	Shown       []DeviceRow
	After, Next string
	More        int
}

// deviceState is what the fleet page groups devices by, as
// store.FleetSummary counts them: never seen, failing (its last session
// left an error), or up (seen, no error).
func deviceState(d store.Device) string {
	switch {
	case d.LastSeen.IsZero():
		return "never seen"
	case d.LastError != "":
		return "failing"
	}
	return "up"
}

// summaryCounts are the tallies of the fleet page from the store's
// summary: states by label, as deviceState names them, the ones with
// devices only.
func summaryCounts(f *Fleet, s store.FleetSummary) {
	f.Devices = s.Devices
	for _, c := range []Count{{"failing", s.Failing}, {"never seen", s.NeverSeen}, {"up", s.Up}} {
		if c.N > 0 {
			f.ByState = append(f.ByState, c)
		}
	}
	for _, a := range s.ByAttestation {
		label := a.Label
		if label == "" {
			label = "not appraised"
		}
		f.ByAttestation = append(f.ByAttestation, Count{Label: label, N: a.N})
	}
	for _, v := range s.Versions {
		f.Versions = append(f.Versions, Count{Label: fmt.Sprintf("%s @ %d", v.Component, v.SequenceNumber), N: v.Devices})
	}
	f.MoreVersions = s.MoreVersions
	for _, e := range s.LastErrors {
		f.LastErrors = append(f.LastErrors, Count(e))
	}
	f.OtherErrors = s.OtherErrors
}

// HandleFleet is GET /?after=ID: the fleet at a glance, its counts from
// the store's summary and one page of its devices (never the whole
// fleet read).
func (d *Dashboard) HandleFleet(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	after := r.URL.Query().Get("after")
	if after != "" {
		if err := catalog.CheckDeviceID(after); err != nil {
			d.fail(w, http.StatusBadRequest, "after: "+err.Error())
			return
		}
	}
	sum, err := d.st.FleetSummary(ctx)
	if err != nil {
		d.storeError(w, err)
		return
	}
	devs, next, err := catalog.DevicePage(ctx, d.st, after, MaxDevicesShown)
	if err != nil {
		d.storeError(w, err)
		return
	}
	ros, err := d.st.ListRollouts(ctx)
	if err != nil {
		d.storeError(w, err)
		return
	}
	f := Fleet{After: after, Next: next}
	summaryCounts(&f, sum)
	for _, dev := range devs {
		f.Shown = append(f.Shown, DeviceRow{Device: dev, State: deviceState(dev)})
	}
	f.More = max(f.Devices-len(f.Shown), 0)
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
