package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// Records of many devices at once, as a fleet's TEEP sessions make them,
// moving devices between versions, attestation statuses and errors in
// every direction: each one succeeds, and the summary is then exactly what
// the devices hold, counted again from their pages.
func testSummaryConcurrent(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		const devices, workers, rounds = 24, 8, 12
		ids := make([]string, devices)
		for i := range ids {
			ids[i] = fmt.Sprintf("%02d", i)
			wantErr(t, "add", s.AddDevice(ctx, device(ids[i])), nil)
		}
		pool := []store.InstalledTC{
			{Component: cid("ta", "a"), SequenceNumber: 1}, {Component: cid("ta", "a"), SequenceNumber: 2},
			{Component: cid("ta", "b"), SequenceNumber: 1}, {Component: cid("fw"), SequenceNumber: 7},
		}
		statuses := []string{"", "affirming", "warning", "contraindicated"}
		lastErrors := []string{"", "boom", "bust"}
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 15)) //nolint:gosec // G404: a seeded draw of records, repeatable on purpose
				for r := range rounds {
					id := ids[rng.IntN(devices)]
					var err error
					switch rng.IntN(3) {
					case 0:
						var tcs []store.InstalledTC
						for range rng.IntN(4) {
							tcs = append(tcs, pool[rng.IntN(len(pool))])
						}
						err = s.RecordTCs(ctx, id, tcs, at(time.Duration(1+r)))
					case 1:
						err = s.RecordAttestation(ctx, id, store.Attestation{Time: at(time.Duration(r)), Status: statuses[rng.IntN(len(statuses))]})
					default:
						err = s.RecordError(ctx, id, lastErrors[rng.IntN(len(lastErrors))])
					}
					if err != nil {
						errs[w] = fmt.Errorf("worker %d round %d: %w", w, r, err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			wantErr(t, "concurrent record", err, nil)
		}
		wantSummary(ctx, t, s, "after concurrent records", recount(ctx, t, s))
	}
}

// recount is the summary of every device of s, read a page at a time and
// counted here.
func recount(ctx context.Context, t *testing.T, s store.Store) store.FleetSummary {
	t.Helper()
	var sum store.FleetSummary
	attestations, lastErrors := map[string]int{}, map[string]int{}
	type version struct {
		component string
		seq       uint64
	}
	versions := map[version]*store.VersionCount{}
	for after := ""; ; {
		page, err := s.DevicePage(ctx, after, 7)
		wantErr(t, "page", err, nil)
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			sum.Devices++
			switch {
			case d.LastSeen.IsZero():
				sum.NeverSeen++
			case d.LastError != "":
				sum.Failing++
			default:
				sum.Up++
			}
			attestations[d.Attestation.Status]++
			if d.LastError != "" {
				lastErrors[d.LastError]++
			}
			mine := map[version]bool{}
			for _, tc := range d.TCs {
				v := version{tc.Component.String(), tc.SequenceNumber}
				if mine[v] {
					continue
				}
				mine[v] = true
				if versions[v] == nil {
					versions[v] = &store.VersionCount{Component: slices.Clone(tc.Component), SequenceNumber: tc.SequenceNumber}
				}
				versions[v].Devices++
			}
		}
		after = page[len(page)-1].ID
	}
	for status, n := range attestations {
		sum.ByAttestation = append(sum.ByAttestation, store.Count{Label: status, N: n})
	}
	slices.SortFunc(sum.ByAttestation, func(a, b store.Count) int { return cmp.Compare(a.Label, b.Label) })
	for e, n := range lastErrors {
		sum.LastErrors = append(sum.LastErrors, store.Count{Label: e, N: n})
	}
	slices.SortFunc(sum.LastErrors, func(a, b store.Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label)) })
	for _, c := range sum.LastErrors[min(len(sum.LastErrors), store.MaxSummaryRows):] {
		sum.OtherErrors += c.N
	}
	sum.LastErrors = sum.LastErrors[:min(len(sum.LastErrors), store.MaxSummaryRows)]
	for _, v := range versions {
		sum.Versions = append(sum.Versions, *v)
	}
	slices.SortFunc(sum.Versions, func(a, b store.VersionCount) int {
		return cmp.Or(cmp.Compare(a.Component.String(), b.Component.String()), cmp.Compare(a.SequenceNumber, b.SequenceNumber))
	})
	sum.MoreVersions = max(0, len(sum.Versions)-store.MaxSummaryRows)
	sum.Versions = sum.Versions[:min(len(sum.Versions), store.MaxSummaryRows)]
	return sum
}
