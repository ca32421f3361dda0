package dashboard

// The bounds of what one page shows, so that a page of a fleet of
// 100,000 devices stays small.
const (
	// MaxDevicesShown is the devices listed on the fleet page (the counts
	// cover them all).
	MaxDevicesShown = 200
	// MaxDeliveriesShown is the deliveries listed on a rollout's page.
	MaxDeliveriesShown = 500
	// MaxReportsShown is the reports listed on a device's page.
	MaxReportsShown = 50
	// MaxSessionsShown is the TEEP sessions listed on a device's page.
	MaxSessionsShown = 50
	// MaxReasonLen bounds the reason given with a pause or a cancel.
	MaxReasonLen = 200
	// RefreshSeconds is how often a running rollout's page reloads.
	RefreshSeconds = 1
)
