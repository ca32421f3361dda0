package catalog_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// TestStatus: a device's status is what the store recorded of it: its
// TCs with their sequence numbers, the last appraisal, the last answer
// with its SUIT reports read, when it was last seen and its last error.
func TestStatus(t *testing.T) {
	t.Parallel()
	r, dev, other := registered(t)
	ctx := context.Background()
	id := dev.id(t)
	seen := epoch.Add(90)
	if err := r.st.RecordTCs(ctx, id, []store.InstalledTC{{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, SequenceNumber: 3}}, seen); err != nil {
		t.Fatal(err)
	}
	if err := r.st.RecordAttestation(ctx, id, store.Attestation{Time: seen, Status: "affirming"}); err != nil {
		t.Fatal(err)
	}
	if err := r.st.RecordError(ctx, id, "a payload could not be fetched"); err != nil {
		t.Fatal(err)
	}
	digest := bytes.Repeat([]byte{0xab}, 32)
	ok := (&suit.Report{ManifestDigest: suit.Digest{Alg: suit.AlgSHA256, Bytes: digest}}).Encode()
	failed := (&suit.Report{ManifestDigest: suit.Digest{Alg: suit.AlgSHA256, Bytes: digest},
		Result: &suit.ReportResult{Reason: suit.ReasonConditionFailed}}).Encode()
	for i, rep := range []store.Report{
		{Device: id, Time: epoch.Add(1), Success: true, Envelopes: [][]byte{digest}, SUITReports: [][]byte{ok}},
		{Device: id, Time: epoch.Add(2), Success: false, Envelopes: [][]byte{digest}, SUITReports: [][]byte{failed, []byte("garbage")}, ErrCode: 17, ErrMsg: "manifest processing failed"},
	} {
		if err := r.st.AddReport(ctx, rep); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	page, err := r.cat.Status(ctx, "", catalog.DefaultPage)
	if err != nil {
		t.Fatal(err)
	}
	all := page.Devices
	if sum := page.Summary; sum == nil || sum.Devices != 2 || sum.Failing != 1 || sum.NeverSeen != 1 || sum.Up != 0 ||
		fmt.Sprint(sum.LastErrors) != "[{a payload could not be fetched 1}]" || fmt.Sprint(sum.Versions) != "[{['TA','acme','hello'] 3 1}]" ||
		fmt.Sprint(sum.ByAttestation) != "[{ 1} {affirming 1}]" || page.Next != "" {
		t.Fatalf("summary %+v, next %q", page.Summary, page.Next)
	}
	var s, o *catalog.DeviceStatus
	for i := range all {
		switch all[i].ID {
		case id:
			s = &all[i]
		case other.id(t):
			o = &all[i]
		}
	}
	if s == nil || o == nil || len(all) != 2 {
		t.Fatalf("status of %d devices: %+v", len(all), all)
	}
	if len(s.TCs) != 1 || s.TCs[0].Component != "['TA','acme','hello']" || s.TCs[0].SequenceNumber != 3 || !s.LastSeen.Equal(seen) ||
		s.Attestation == nil || s.Attestation.Status != "affirming" || s.LastError != "a payload could not be fetched" {
		t.Fatalf("status %+v", s)
	}
	rep := s.LastReport
	if rep == nil || rep.Success || rep.ErrCode != 17 || len(rep.SUIT) != 2 || rep.SUIT[0].Result != "condition-failed" ||
		rep.SUIT[0].Manifest != hex.EncodeToString(digest) || rep.SUIT[1].Result != "unreadable report" || rep.Envelopes[0] != hex.EncodeToString(digest) {
		t.Fatalf("last report %+v", rep)
	}
	if o.LastReport != nil || o.Attestation != nil || len(o.TCs) != 0 || !o.LastSeen.IsZero() {
		t.Fatalf("a device never seen: %+v", o)
	}
}

// fleetOf registers n devices straight in the store, in a mix of states:
// never seen, failing with one of two errors, up; half appraised; the
// seen ones running a TA at one of two versions; every fourth with two
// reports. It returns their IDs, sorted, and the newest report's time by
// device.
func fleetOf(t *testing.T, st store.Store, n int) ([]string, map[string]time.Time) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	newest := map[string]time.Time{}
	for i := range n {
		id := fmt.Sprintf("%064x", 7919*i+1) // registered out of ID order
		ids = append(ids, id)
		if err := st.AddDevice(ctx, store.Device{ID: id, Name: fmt.Sprint("d", i), AgentKey: []byte{1}, Registered: epoch}); err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			tc := store.InstalledTC{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, SequenceNumber: uint64(1 + i%2)}
			if err := st.RecordTCs(ctx, id, []store.InstalledTC{tc}, epoch.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 1 {
			if err := st.RecordError(ctx, id, fmt.Sprint("error ", i%5%2)); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			if err := st.RecordAttestation(ctx, id, store.Attestation{Time: epoch, Status: "affirming"}); err != nil {
				t.Fatal(err)
			}
		}
		if i%4 == 0 {
			for k := range 2 {
				at := epoch.Add(time.Duration(i*10+k) * time.Minute)
				if err := st.AddReport(ctx, store.Report{Device: id, Time: at, Success: k == 1}); err != nil {
					t.Fatal(err)
				}
				newest[id] = at
			}
		}
	}
	slices.Sort(ids)
	return ids, newest
}

// summaryOf counts devices as the summary must: the expected answer,
// from the devices' own status.
func summaryOf(devs []catalog.DeviceStatus) catalog.SummaryJSON {
	s := catalog.SummaryJSON{Devices: len(devs), ByAttestation: []catalog.AttestationCount{}, LastErrors: []catalog.ErrorCount{}, Versions: []catalog.VersionCount{}}
	att, errs, vers := map[string]int{}, map[string]int{}, map[catalog.VersionCount]int{}
	for _, d := range devs {
		switch {
		case d.LastSeen.IsZero():
			s.NeverSeen++
		case d.LastError != "":
			s.Failing++
			errs[d.LastError]++
		default:
			s.Up++
		}
		status := ""
		if d.Attestation != nil {
			status = d.Attestation.Status
		}
		att[status]++
		for _, tc := range d.TCs {
			vers[catalog.VersionCount{Component: tc.Component, SequenceNumber: tc.SequenceNumber}]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(att)) {
		s.ByAttestation = append(s.ByAttestation, catalog.AttestationCount{Status: k, Devices: att[k]})
	}
	for k, n := range errs {
		s.LastErrors = append(s.LastErrors, catalog.ErrorCount{Error: k, Devices: n})
	}
	slices.SortFunc(s.LastErrors, func(a, b catalog.ErrorCount) int {
		return cmp.Or(b.Devices-a.Devices, strings.Compare(a.Error, b.Error))
	})
	for k, n := range vers {
		k.Devices = n
		s.Versions = append(s.Versions, k)
	}
	slices.SortFunc(s.Versions, func(a, b catalog.VersionCount) int {
		return cmp.Or(strings.Compare(a.Component, b.Component), cmp.Compare(a.SequenceNumber, b.SequenceNumber))
	})
	return s
}

// TestStatusPages: walking the status page after page by next gives
// every device once, by ID, each page at most limit long and no page
// after the last; the first page's summary counts what the devices'
// status shows; and no page reads a device's reports one by one: one
// summary (first page only), one or two device pages and one LastReports
// a page, and no Reports call at all.
func TestStatusPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		devices int
		limit   int
		pages   int
	}{
		{"no device", 0, 3, 1},
		{"one device, a page of one", 1, 1, 1},
		{"a page of one", 4, 1, 4},
		{"pages of three, the last short", 10, 3, 4},
		{"pages of three, the last full", 9, 3, 3},
		{"one page holds all", 25, catalog.DefaultPage, 1},
		{"the largest page", 25, catalog.MaxPage, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			ids, newest := fleetOf(t, r.st.Store, tc.devices)
			r.st.readCounts()
			var got []catalog.DeviceStatus
			var summary *catalog.SummaryJSON
			pages := 0
			for after := ""; ; pages++ {
				page, err := r.cat.Status(context.Background(), after, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				reads := r.st.readCounts()
				if after == "" {
					summary = page.Summary
					if summary == nil || reads["FleetSummary"] != 1 {
						t.Fatalf("first page: summary %v after %d reads", summary, reads["FleetSummary"])
					}
				} else if page.Summary != nil || reads["FleetSummary"] != 0 {
					t.Fatalf("page after %s: summary %v after %d reads", after, page.Summary, reads["FleetSummary"])
				}
				if reads["Reports"] != 0 || reads["LastReports"] != 1 || reads["DevicePage"] < 1 || reads["DevicePage"] > 2 {
					t.Fatalf("page %d read %v", pages, reads)
				}
				if len(page.Devices) > tc.limit || (page.Next != "" && (len(page.Devices) != tc.limit || page.Next != page.Devices[len(page.Devices)-1].ID)) {
					t.Fatalf("page %d: %d devices, next %q", pages, len(page.Devices), page.Next)
				}
				got = append(got, page.Devices...)
				if page.Next == "" {
					break
				}
				after = page.Next
			}
			if pages+1 != tc.pages {
				t.Errorf("%d pages, want %d", pages+1, tc.pages)
			}
			var gotIDs []string
			for _, d := range got {
				gotIDs = append(gotIDs, d.ID)
				want, reported := newest[d.ID]
				if (d.LastReport != nil) != reported || (reported && (!d.LastReport.Time.Equal(want) || !d.LastReport.Success)) {
					t.Errorf("device %s: last report %+v, want the one of %v", d.ID, d.LastReport, want)
				}
			}
			if !slices.Equal(gotIDs, ids) {
				t.Fatalf("walked %d devices %v, want %d %v", len(gotIDs), gotIDs, len(ids), ids)
			}
			if want := summaryOf(got); fmt.Sprintf("%+v", *summary) != fmt.Sprintf("%+v", want) {
				t.Fatalf("summary\n%+v, the devices show\n%+v", *summary, want)
			}
		})
	}
}

// TestParsePage: a page request's after and limit, the default and the
// clamp, and every malformed one refused as ErrInvalid.
func TestParsePage(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("0a", 32)
	for _, tc := range []struct {
		query     string
		after     string
		limit     int
		malformed bool
	}{
		{"", "", catalog.DefaultPage, false},
		{"limit=1", "", 1, false},
		{"limit=1000", "", catalog.MaxPage, false},
		{"limit=1001", "", catalog.MaxPage, false},
		{"limit=99999999999999999999", "", 0, true},
		{"after=" + id + "&limit=7", id, 7, false},
		{"limit=0", "", 0, true},
		{"limit=-3", "", 0, true},
		{"limit=1.5", "", 0, true},
		{"limit=", "", catalog.DefaultPage, false},
		{"after=0A", "", 0, true},
		{"after=g", "", 0, true},
		{"after=" + strings.Repeat("0", store.MaxKey), strings.Repeat("0", store.MaxKey), catalog.DefaultPage, false},
		{"after=" + strings.Repeat("0", store.MaxKey+1), "", 0, true},
		{"after=%00", "", 0, true},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		after, limit, err := catalog.ParsePage(q)
		if tc.malformed {
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("%q: %q %d %v, want ErrInvalid", tc.query, after, limit, err)
			}
			continue
		}
		if err != nil || after != tc.after || limit != tc.limit {
			t.Errorf("%q: %q %d %v, want %q %d", tc.query, after, limit, err, tc.after, tc.limit)
		}
	}
}
