package tamtest

import (
	"github.com/teeup/teeup/emulator/fleet"
	"github.com/teeup/teeup/secure/suit"
)

// TAStore is the light devices' TA store: the fleet simulator's
// (emulator/fleet).
type TAStore = fleet.TAStore

// FirmwarePrefix: see fleet.FirmwarePrefix.
const FirmwarePrefix = fleet.FirmwarePrefix

// ErrInjected: see fleet.ErrInjected.
var ErrInjected = fleet.ErrInjected

// NewTAStore is fleet.NewTAStore.
func NewTAStore(authors []*suit.Key, fail, rollBack bool) *TAStore {
	return fleet.NewTAStore(authors, fail, rollBack)
}
