package storetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// Issue 15's fleet benchmark, shared by the backends: each fills its store
// with FleetSize devices its own bulk way (AddDevice's commit per device
// would take minutes), then runs BenchFleet.
const (
	// FleetSize is issue 15's fleet: the device page and the status
	// queries are measured against a store holding this many devices.
	FleetSize = 100_000
	// FleetReports are the reports each fleet device has, at FleetT0 and
	// a minute later, the later a success.
	FleetReports = 2
	// fleetVersions are the (component, sequence number) pairs the fleet
	// runs: 4 components, each at 3 sequence numbers.
	fleetVersions = 12
)

// FleetT0 is when the fleet registered.
var FleetT0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

// FleetID is the ID of the i-th device of the fleet.
func FleetID(i int) string { return fmt.Sprintf("%064x", i) }

// FleetDevice is the i-th device of the fleet: a tc-list of 4 TCs
// (versions spread over 3 sequence numbers), an attestation result (one
// in 20 warning, one in 50 never appraised), one in 10 with a last error
// (of 5 texts), one in 100 never seen.
func FleetDevice(i int) store.Device {
	tcs := make([]store.InstalledTC, 4)
	for j := range tcs {
		tcs[j] = store.InstalledTC{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte(strconv.Itoa(j))}, SequenceNumber: uint64(j + i%3), Digest: make([]byte, 36)}
	}
	d := store.Device{ID: FleetID(i), Name: "device " + strconv.Itoa(i), AgentKey: make([]byte, 91), Endorsement: make([]byte, 600),
		Registered: FleetT0, LastSeen: FleetT0.Add(time.Hour), TCs: tcs,
		Attestation: store.Attestation{Time: FleetT0.Add(time.Hour), Status: "affirming", EAR: make([]byte, 700)}}
	switch {
	case i%50 == 1:
		d.Attestation = store.Attestation{}
	case i%20 == 2:
		d.Attestation.Status = "warning"
	}
	if i%10 == 0 {
		d.LastError = "update failed: " + strconv.Itoa(i/10%5)
	}
	if i%100 == 3 {
		d.LastSeen, d.TCs = time.Time{}, nil
	}
	return d
}

// BenchFleet measures s, holding the FleetSize devices of FleetDevice,
// each with FleetReports reports, with the 99th percentile of each:
// ReadEveryDevice (readAll: the backend's read of every device's row,
// what the status API and the fleet page made before FleetStatus: the
// baseline); FleetStatus (what they read now for their first page:
// FleetSummary, DevicePage of 100, LastReports of that page); DevicePage
// (a device's page: Device and its last reports).
func BenchFleet(b *testing.B, s store.Store, readAll func(context.Context) ([]store.Device, error)) {
	ctx := b.Context()
	b.Run("ReadEveryDevice", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			t0 := time.Now()
			ds, err := readAll(ctx)
			took = append(took, time.Since(t0))
			if err != nil || len(ds) != FleetSize {
				b.Fatalf("%d devices, %v", len(ds), err)
			}
		}
		reportP99(b, took)
	})
	b.Run("FleetStatus", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			t0 := time.Now()
			sum, err := s.FleetSummary(ctx)
			if err != nil || sum.Devices != FleetSize || len(sum.Versions) != fleetVersions {
				b.Fatalf("summary %+v, %v", sum, err)
			}
			page, err := s.DevicePage(ctx, "", 100)
			if err != nil || len(page) != 100 {
				b.Fatalf("%d devices, %v", len(page), err)
			}
			ids := make([]string, len(page))
			for i, d := range page {
				ids[i] = d.ID
			}
			last, err := s.LastReports(ctx, ids)
			took = append(took, time.Since(t0))
			if err != nil || len(last) != 100 {
				b.Fatalf("%d last reports, %v", len(last), err)
			}
		}
		reportP99(b, took)
	})
	b.Run("DevicePage", func(b *testing.B) {
		var took []time.Duration
		i := 0
		for b.Loop() {
			id := FleetID(i * 7919 % FleetSize) // spread over the table
			i++
			t0 := time.Now()
			d, err := s.Device(ctx, id)
			if err != nil || d.ID != id {
				b.Fatalf("device %s: %v", id, err)
			}
			rs, err := s.Reports(ctx, id, 10)
			took = append(took, time.Since(t0))
			if err != nil || len(rs) != FleetReports {
				b.Fatalf("%d reports, %v", len(rs), err)
			}
		}
		reportP99(b, took)
	})
}

// reportP99 reports the 99th percentile of took, in milliseconds.
func reportP99(b *testing.B, took []time.Duration) {
	b.Helper()
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)])/1e6, "p99-ms")
}
