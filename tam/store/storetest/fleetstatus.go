package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// The fleet status query (issue 15): a summary counted by the store, and
// the devices and their last reports a page at a time.

func testFleetStatus(t *testing.T, open Opener) {
	t.Run("SummaryEmpty", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantSummary(ctx, t, s, "empty store", store.FleetSummary{})
	})
	t.Run("Summary", testSummary(open))
	t.Run("SummaryErrorRanking", testSummaryErrors(open))
	t.Run("SummaryVersions", testSummaryVersions(open))
	t.Run("SummaryFollowsRecords", testSummaryRecords(open))
	t.Run("SummaryConcurrent", testSummaryConcurrent(open))
	t.Run("SummaryFollowsAnswers", testSummaryAnswers(open))
	t.Run("DevicePage", testDevicePage(open))
	t.Run("DevicePageClamped", func(t *testing.T) {
		ctx, s := fresh(t, open)
		for i := range store.MaxPage + 1 {
			wantErr(t, "add", s.AddDevice(ctx, device(fmt.Sprintf("%05d", i))), nil)
		}
		got, err := s.DevicePage(ctx, "", store.MaxPage+1)
		wantErr(t, "page", err, nil)
		if len(got) != store.MaxPage || got[0].ID != "00000" || got[len(got)-1].ID != fmt.Sprintf("%05d", store.MaxPage-1) {
			t.Fatalf("%d devices, want the first MaxPage = %d", len(got), store.MaxPage)
		}
	})
	t.Run("LastReports", testLastReports(open))
}

// wantSummary fails unless the store's summary is want (nil and empty
// lists alike).
func wantSummary(ctx context.Context, t *testing.T, s store.Store, what string, want store.FleetSummary) {
	t.Helper()
	got, err := s.FleetSummary(ctx)
	wantErr(t, what+": summary", err, nil)
	for _, sum := range []*store.FleetSummary{&got, &want} {
		if len(sum.ByAttestation) == 0 {
			sum.ByAttestation = nil
		}
		if len(sum.LastErrors) == 0 {
			sum.LastErrors = nil
		}
		if len(sum.Versions) == 0 {
			sum.Versions = nil
		}
	}
	same(t, what, got, want)
}

func testSummary(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		x3 := store.InstalledTC{Component: cid("ta", "x"), SequenceNumber: 3}
		fw := store.InstalledTC{Component: cid("fw"), SequenceNumber: 0, Digest: []byte{1}}
		mod := func(id string, f func(*store.Device)) store.Device {
			d := device(id)
			f(&d)
			return d
		}
		for _, d := range []store.Device{
			device("a"), // never seen, never appraised
			mod("b", func(d *store.Device) { d.LastError = "boom" }), // never seen, with an error
			mod("c", func(d *store.Device) {
				d.LastSeen, d.LastError, d.Attestation = at(5), "boom", store.Attestation{Time: at(4), Status: "warning"}
			}),
			mod("d", func(d *store.Device) {
				d.LastSeen, d.TCs, d.Attestation = at(5), []store.InstalledTC{x3, fw}, store.Attestation{Time: at(4), Status: "affirming"}
			}),
			// The same version twice in one tc-list is one device.
			mod("e", func(d *store.Device) {
				d.LastSeen, d.LastError, d.TCs = at(6), "alpha", []store.InstalledTC{x3, x3}
				d.Attestation = store.Attestation{Time: at(4), Status: "affirming"}
			}),
			mod("f", func(d *store.Device) {
				d.LastSeen, d.TCs = at(7), []store.InstalledTC{}
				d.Attestation = store.Attestation{Time: at(4), Status: "contraindicated"}
			}),
		} {
			wantErr(t, "add "+d.ID, s.AddDevice(ctx, d), nil)
		}
		wantSummary(ctx, t, s, "summary", store.FleetSummary{
			Devices: 6, NeverSeen: 2, Failing: 2, Up: 2,
			ByAttestation: []store.Count{{Label: "", N: 2}, {Label: "affirming", N: 2}, {Label: "contraindicated", N: 1}, {Label: "warning", N: 1}},
			LastErrors:    []store.Count{{Label: "boom", N: 2}, {Label: "alpha", N: 1}},
			Versions: []store.VersionCount{
				{Component: cid("fw"), SequenceNumber: 0, Devices: 1},
				{Component: cid("ta", "x"), SequenceNumber: 3, Devices: 2},
			},
		})
	}
}

// More distinct errors than MaxSummaryRows: the most common first, ties by
// text, the rest counted in OtherErrors.
func testSummaryErrors(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		errs := []string{"z most", "z most", "z most", "b two", "a two", "b two", "a two"}
		for i := range store.MaxSummaryRows + 4 {
			errs = append(errs, fmt.Sprintf("e%03d", i))
		}
		for i, e := range errs {
			d := device(fmt.Sprintf("%04d", i))
			d.LastSeen, d.LastError = at(time.Duration(i)), e
			wantErr(t, "add", s.AddDevice(ctx, d), nil)
		}
		want := []store.Count{{Label: "z most", N: 3}, {Label: "a two", N: 2}, {Label: "b two", N: 2}}
		for i := range store.MaxSummaryRows - 3 {
			want = append(want, store.Count{Label: fmt.Sprintf("e%03d", i), N: 1})
		}
		n := len(errs)
		wantSummary(ctx, t, s, "summary", store.FleetSummary{
			Devices: n, Failing: n, ByAttestation: []store.Count{{Label: "", N: n}},
			LastErrors: want, OtherErrors: 7, // e097 to e103
		})
	}
}

// Versions by the component's String(), which is not the order of its
// bytes, then by sequence number as unsigned; more than MaxSummaryRows
// rows are cut and counted.
func testSummaryVersions(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		hex := suit.ComponentID{{0x00}}
		d1 := device("01")
		d1.TCs = []store.InstalledTC{
			{Component: hex, SequenceNumber: 1},
			{Component: cid("b"), SequenceNumber: math.MaxUint64},
			{Component: cid("b"), SequenceNumber: 1},
			{Component: cid("a"), SequenceNumber: 2},
			{Component: cid("a", "z"), SequenceNumber: 7},
		}
		d2 := device("02")
		d2.TCs = []store.InstalledTC{{Component: cid("b"), SequenceNumber: math.MaxUint64}, {Component: hex, SequenceNumber: 1}}
		wantErr(t, "add", s.AddDevice(ctx, d1), nil)
		wantErr(t, "add", s.AddDevice(ctx, d2), nil)
		want := []store.VersionCount{ // ['a','z'] < ['a'] < ['b'] < [00]
			{Component: cid("a", "z"), SequenceNumber: 7, Devices: 1},
			{Component: cid("a"), SequenceNumber: 2, Devices: 1},
			{Component: cid("b"), SequenceNumber: 1, Devices: 1},
			{Component: cid("b"), SequenceNumber: math.MaxUint64, Devices: 2},
			{Component: hex, SequenceNumber: 1, Devices: 2},
		}
		wantSummary(ctx, t, s, "summary", store.FleetSummary{
			Devices: 2, NeverSeen: 2, ByAttestation: []store.Count{{Label: "", N: 2}}, Versions: want,
		})

		// Past MaxSummaryRows: the first rows in order, the rest counted.
		d3 := device("03")
		for i := range store.MaxSummaryRows + 5 {
			d3.TCs = append(d3.TCs, store.InstalledTC{Component: cid("c", fmt.Sprintf("%03d", i)), SequenceNumber: 1})
		}
		wantErr(t, "add", s.AddDevice(ctx, d3), nil)
		want = want[:4] // [00] sorts after every ['c',...]: cut
		for i := range store.MaxSummaryRows - len(want) {
			want = append(want, store.VersionCount{Component: cid("c", fmt.Sprintf("%03d", i)), SequenceNumber: 1, Devices: 1})
		}
		wantSummary(ctx, t, s, "summary past MaxSummaryRows", store.FleetSummary{
			Devices: 3, NeverSeen: 3, ByAttestation: []store.Count{{Label: "", N: 3}}, Versions: want, MoreVersions: 10,
		})
	}
}

// Every Record method moves the device between the summary's counts.
func testSummaryRecords(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		x := func(seq uint64) store.InstalledTC {
			return store.InstalledTC{Component: cid("ta", "x"), SequenceNumber: seq}
		}
		y1 := store.InstalledTC{Component: cid("ta", "y"), SequenceNumber: 1}
		d1, d2 := device("01"), device("02")
		d1.TCs, d2.TCs = []store.InstalledTC{x(1)}, []store.InstalledTC{x(1)}
		wantErr(t, "add", s.AddDevice(ctx, d1), nil)
		wantErr(t, "add", s.AddDevice(ctx, d2), nil)
		none := []store.Count{{Label: "", N: 2}}
		steps := []struct {
			name   string
			record func() error
			want   store.FleetSummary
		}{
			{"added", func() error { return nil }, store.FleetSummary{Devices: 2, NeverSeen: 2, ByAttestation: none,
				Versions: []store.VersionCount{{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 2}}}},
			{"tc-list replaced", func() error { return s.RecordTCs(ctx, "01", []store.InstalledTC{y1, x(2)}, at(10)) },
				store.FleetSummary{Devices: 2, NeverSeen: 1, Up: 1, ByAttestation: none, Versions: []store.VersionCount{
					{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1},
					{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1},
					{Component: cid("ta", "y"), SequenceNumber: 1, Devices: 1},
				}}},
			{"same tc-list again", func() error { return s.RecordTCs(ctx, "01", []store.InstalledTC{x(2), y1}, at(11)) },
				store.FleetSummary{Devices: 2, NeverSeen: 1, Up: 1, ByAttestation: none, Versions: []store.VersionCount{
					{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1},
					{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1},
					{Component: cid("ta", "y"), SequenceNumber: 1, Devices: 1},
				}}},
			{"error", func() error { return s.RecordError(ctx, "01", "install failed") },
				store.FleetSummary{Devices: 2, NeverSeen: 1, Failing: 1, ByAttestation: none, LastErrors: []store.Count{{Label: "install failed", N: 1}},
					Versions: []store.VersionCount{
						{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1},
						{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1},
						{Component: cid("ta", "y"), SequenceNumber: 1, Devices: 1},
					}}},
			{"attestation", func() error {
				return s.RecordAttestation(ctx, "02", store.Attestation{Time: at(12), Status: "warning"})
			},
				store.FleetSummary{Devices: 2, NeverSeen: 1, Failing: 1, ByAttestation: []store.Count{{Label: "", N: 1}, {Label: "warning", N: 1}},
					LastErrors: []store.Count{{Label: "install failed", N: 1}},
					Versions: []store.VersionCount{
						{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1},
						{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1},
						{Component: cid("ta", "y"), SequenceNumber: 1, Devices: 1},
					}}},
			{"tc-list emptied, error cleared", func() error {
				return errorsJoin(s.RecordTCs(ctx, "01", nil, at(13)), s.RecordError(ctx, "01", ""))
			}, store.FleetSummary{Devices: 2, NeverSeen: 1, Up: 1, ByAttestation: []store.Count{{Label: "", N: 1}, {Label: "warning", N: 1}},
				Versions: []store.VersionCount{{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1}}}},
			{"refused records change nothing", func() error {
				if err := s.RecordTCs(ctx, "01", []store.InstalledTC{{}}, at(14)); err == nil {
					return fmt.Errorf("an invalid tc-list was recorded")
				}
				if err := s.RecordTCs(ctx, "nobody", []store.InstalledTC{x(9)}, at(14)); err == nil {
					return fmt.Errorf("a tc-list of no device was recorded")
				}
				if err := s.AddDevice(ctx, d2); err == nil {
					return fmt.Errorf("a device was added twice")
				}
				return nil
			}, store.FleetSummary{Devices: 2, NeverSeen: 1, Up: 1, ByAttestation: []store.Count{{Label: "", N: 1}, {Label: "warning", N: 1}},
				Versions: []store.VersionCount{{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1}}}},
			{"attestation back to none", func() error { return s.RecordAttestation(ctx, "02", store.Attestation{}) },
				store.FleetSummary{Devices: 2, NeverSeen: 1, Up: 1, ByAttestation: none,
					Versions: []store.VersionCount{{Component: cid("ta", "x"), SequenceNumber: 1, Devices: 1}}}},
		}
		for _, st := range steps {
			wantErr(t, st.name, st.record(), nil)
			wantSummary(ctx, t, s, "after "+st.name, st.want)
		}
	}
}

// An answer recorded whole moves the device in every count; a refused
// one in none.
func testSummaryAnswers(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		d := device("01")
		d.TCs = []store.InstalledTC{{Component: cid("ta", "x"), SequenceNumber: 1}}
		wantErr(t, "add", s.AddDevice(ctx, d), nil)
		sess := store.Session{Token: []byte("token"), State: store.QuerySent, Challenge: []byte("challenge"), Numbering: 1, Created: at(1), Expires: at(time.Hour)}
		wantErr(t, "create session", s.CreateSession(ctx, sess), nil)
		sess.State, sess.Device = store.Done, "01"
		boom := "boom"
		a := store.Answer{Session: sess, From: store.QuerySent, Now: at(2), RecordTCs: true,
			TCs:         []store.InstalledTC{{Component: cid("ta", "x"), SequenceNumber: 2}, {Component: cid("ta", "y"), SequenceNumber: 1}},
			Attestation: &store.Attestation{Time: at(2), Status: "warning"}, LastError: &boom}
		wantErr(t, "record answer", s.RecordAnswer(ctx, a), nil)
		want := store.FleetSummary{Devices: 1, Failing: 1, ByAttestation: []store.Count{{Label: "warning", N: 1}},
			LastErrors: []store.Count{{Label: "boom", N: 1}}, Versions: []store.VersionCount{
				{Component: cid("ta", "x"), SequenceNumber: 2, Devices: 1},
				{Component: cid("ta", "y"), SequenceNumber: 1, Devices: 1},
			}}
		wantSummary(ctx, t, s, "after an answer", want)
		a.TCs, a.Attestation, a.LastError = nil, &store.Attestation{Status: "affirming"}, new(string)
		wantErr(t, "replayed answer", s.RecordAnswer(ctx, a), store.ErrConflict)
		wantSummary(ctx, t, s, "after a refused answer", want)
	}
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Paging through every device: each once, in ID order, whatever the page
// size; a cursor need not be a registered ID.
func testDevicePage(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		ids := []string{"07", "01", "03", "10", "02", "05", "09"}
		for _, id := range ids {
			d := fullDevice(id)
			wantErr(t, "add", s.AddDevice(ctx, d), nil)
		}
		slices.Sort(ids)
		for _, limit := range []int{1, 2, 3, 7, 8, store.MaxPage} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(ids)+1 {
					t.Fatalf("limit %d: paging does not end: %v", limit, got)
				}
				page, err := s.DevicePage(ctx, after, limit)
				wantErr(t, "page", err, nil)
				if len(page) > limit {
					t.Fatalf("limit %d: a page of %d", limit, len(page))
				}
				for _, d := range page {
					same(t, "device on a page", d, fullDevice(d.ID))
					got = append(got, d.ID)
				}
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].ID
			}
			same(t, fmt.Sprint("paged by ", limit), got, ids)
		}
		for _, tc := range []struct {
			after string
			limit int
			want  []string
		}{
			{"04", 2, []string{"05", "07"}}, // not a registered ID
			{"0", 1, []string{"01"}},
			{"10", 5, nil},
			{"zz", 5, nil},
		} {
			page, err := s.DevicePage(ctx, tc.after, tc.limit)
			wantErr(t, "page", err, nil)
			var got []string
			for _, d := range page {
				got = append(got, d.ID)
			}
			same(t, "page after "+tc.after, got, tc.want)
		}
		for _, limit := range []int{0, -1} {
			_, err := s.DevicePage(ctx, "", limit)
			wantErr(t, fmt.Sprint("limit ", limit), err, store.ErrInvalid)
		}
	}
}

// The newest report of each device, as Reports orders them: by time, then
// the later added.
func testLastReports(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "01", "02", "03", "04")
		reports := []store.Report{
			{Device: "01", Time: at(1), Success: true},
			{Device: "01", Time: at(3), Success: true, Envelopes: [][]byte{sum([]byte("a"))}},
			{Device: "01", Time: at(3), ErrCode: 1, ErrMsg: "same time, added later", SUITReports: [][]byte{{0xa0}}},
			{Device: "01", Time: at(2), Success: true},
			{Device: "02", Time: at(9), Success: true},
			{Device: "04", Time: at(5), ErrCode: 2, ErrMsg: "newest"},
			{Device: "04", Time: at(4), Success: true}, // added later, older
		}
		for _, r := range reports {
			wantErr(t, "add", s.AddReport(ctx, r), nil)
		}
		for _, tc := range []struct {
			name string
			ids  []string
			want map[string]store.Report
		}{
			{"none asked", nil, map[string]store.Report{}},
			{"each kind", []string{"01", "02", "03", "04", "nobody"},
				map[string]store.Report{"01": reports[2], "02": reports[4], "04": reports[5]}},
			{"asked twice", []string{"02", "02"}, map[string]store.Report{"02": reports[4]}},
			{"none with reports", []string{"03", "", strings.Repeat("x", store.MaxKey+1), "\x00"}, map[string]store.Report{}},
		} {
			got, err := s.LastReports(ctx, tc.ids)
			wantErr(t, tc.name, err, nil)
			if got == nil {
				t.Fatalf("%s: a nil map", tc.name)
			}
			same(t, tc.name, got, tc.want)
			// Each the same as Reports' first.
			for id, r := range got {
				newest, err := s.Reports(ctx, id, 1)
				wantErr(t, "reports", err, nil)
				same(t, tc.name+": as Reports orders them", r, newest[0])
			}
		}
		ids := make([]string, store.MaxPage)
		for i := range ids {
			ids[i] = fmt.Sprintf("%04d", i)
		}
		ids[store.MaxPage-1] = "02"
		got, err := s.LastReports(ctx, ids)
		wantErr(t, "MaxPage IDs", err, nil)
		same(t, "MaxPage IDs", got, map[string]store.Report{"02": reports[4]})
		_, err = s.LastReports(ctx, append(ids, "01"))
		wantErr(t, "more than MaxPage IDs", err, store.ErrInvalid)
	}
}
