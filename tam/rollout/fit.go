package rollout

import (
	"fmt"

	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// fitsOneUpdate refuses a release no Update could carry as the install
// sets a device makes of it. A release is installed atomically: its TAs
// go together in one Update, its firmware pair in one of its own (the
// secure world keeps the two sets apart; tam/teepsrv's decide), and an
// Update is one TEEP message. Each envelope fits alone (the catalog
// checked it at publish); together they may not, and then the TEEP
// endpoint would split the set over sessions, or never finish sending it.
func fitsOneUpdate(name string, envs []store.Envelope) error {
	var tas, firmware [][]byte
	for _, e := range envs {
		if e.Kind == store.FirmwareEnvelope {
			firmware = append(firmware, e.Raw)
		} else {
			tas = append(tas, e.Raw)
		}
	}
	for _, set := range []struct {
		what string
		raw  [][]byte
	}{{"TAs", tas}, {"firmware", firmware}} {
		if len(set.raw) == 0 {
			continue
		}
		if err := teep.FitsOneUpdate(set.raw...); err != nil {
			return fmt.Errorf("%w: release %q: its %s in one Update: %w", ErrTooLargeForTEEP, name, set.what, err)
		}
	}
	return nil
}
