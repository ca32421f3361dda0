package store

import (
	"context"

	"github.com/teeup/teeup/secure/suit"
)

// FleetStatus answers the fleet status query by aggregation and pages, so that
// neither the status API nor the dashboard reads every device.
type FleetStatus interface {
	// FleetSummary counts the registered devices.
	FleetSummary(ctx context.Context) (FleetSummary, error)
	// DevicePage is up to limit devices whose IDs sort after after ("" for
	// the first page), by ID. limit must be positive (ErrInvalid) and is
	// clamped to MaxPage.
	DevicePage(ctx context.Context, after string, limit int) ([]Device, error)
	// LastReports is the newest report (as Reports orders them) of each of
	// devices, by device ID; a device with no report, or not registered, is
	// absent. At most MaxPage IDs (ErrInvalid beyond).
	LastReports(ctx context.Context, devices []string) (map[string]Report, error)
}

// FleetSummary is the fleet at a glance.
type FleetSummary struct {
	Devices int
	// NeverSeen devices have sent no QueryResponse (LastSeen zero); Failing
	// ones were seen and hold a last error; Up ones were seen with none.
	NeverSeen, Failing, Up int
	// ByAttestation counts devices by Attestation.Status ("" for never
	// appraised), by status.
	ByAttestation []Count
	// LastErrors are the most common non-empty last errors, most devices
	// first, then by text; at most MaxSummaryRows, OtherErrors counts the
	// devices whose error is left out.
	LastErrors  []Count
	OtherErrors int
	// Versions count the devices reporting each (component, sequence number)
	// in their tc-list, by component (its String()) then sequence number; at
	// most MaxSummaryRows, MoreVersions says how many rows were left out.
	Versions     []VersionCount
	MoreVersions int
}

// Count is a number of devices under a label.
type Count struct {
	Label string
	N     int
}

// VersionCount is the number of devices running one version of a component.
type VersionCount struct {
	Component      suit.ComponentID
	SequenceNumber uint64
	Devices        int
}
