package dashboard

import (
	"net/http"

	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// Device is a device's page: what it last told the TAM (its tc-list, its
// attestation result, its last error), its deliveries, its TEEP sessions
// and its reports (the answers to its Updates, with their SUIT reports),
// newest first.
type Device struct {
	Device     store.Device
	State      string
	Tags       []string
	Deliveries []store.Delivery
	Sessions   []Session
	Reports    []store.Report
}

// Session is a line of a device's TEEP sessions: an ended session of its
// log, with the name of the numbering it spoke.
type Session struct {
	store.SessionRecord
	NumberingName string
}

// Evidence is the appraisal of the session's evidence, which makes the
// sessions table the device's history of attestation results too: the
// TAM answers anything but a refusal only to evidence appraised
// affirming (attest.Appraisal.Trustworthy), and a refused session's
// detail holds the appraisal's status and reason.
func (s Session) Evidence() string {
	if s.Outcome == store.OutcomeRefused {
		return "not trustworthy"
	}
	return "affirming"
}

// HandleDevice is GET /dashboard/devices/{device}.
func (d *Dashboard) HandleDevice(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("device")
	dev, err := d.st.Device(ctx, id)
	if err != nil {
		d.storeError(w, err)
		return
	}
	pg := Device{Device: dev, State: deviceState(dev)}
	if pg.Tags, err = d.st.Tags(ctx, id); err != nil {
		d.storeError(w, err)
		return
	}
	if pg.Deliveries, err = d.st.DeliveriesOf(ctx, id); err != nil {
		d.storeError(w, err)
		return
	}
	log, err := d.st.SessionLog(ctx, id, MaxSessionsShown)
	if err != nil {
		d.storeError(w, err)
		return
	}
	for _, r := range log {
		pg.Sessions = append(pg.Sessions, Session{SessionRecord: r, NumberingName: teep.Numbering(r.Numbering).String()})
	}
	if pg.Reports, err = d.st.Reports(ctx, id, MaxReportsShown); err != nil {
		d.storeError(w, err)
		return
	}
	d.render(w, "device", d.newPage(r, "device "+id, pg))
}
