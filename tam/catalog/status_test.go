package catalog_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"

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
	all, err := r.cat.Status(ctx)
	if err != nil {
		t.Fatal(err)
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
