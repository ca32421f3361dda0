package suit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// reportRun processes an install sequence on the recording platform and
// returns the manifest, the result and the error.
func reportRun(t *testing.T, install Sequence, setup func(*memPlatform)) (*Verified, *Result, error) {
	t.Helper()
	v := verifiedFor(t, 1, 1, nil, install)
	mem := newMem()
	if setup != nil {
		setup(mem)
	}
	res, err := Process(context.Background(), v, mem, Options{Sequences: []int64{KeyInstall}, Report: true})
	return v, res, err
}

// TestReportRoundTrip: the report of a run, signed by a device key (and
// MAC'd), verifies on the receiving side and decodes to the same report.
func TestReportRoundTrip(t *testing.T) {
	install := Sequence{
		set(Parameters{ParamContent: []byte("abc"), ParamImageDigest: digestOf("abc"), ParamImageSize: uint64(3),
			ParamVendorID: bytes.Repeat([]byte{0xfa}, 16)}),
		Command{Code: CondVendorIdentifier, Policy: ReportSysinfoOnSuccess},
		dir(DirWrite),
		Command{Code: CondImageMatch, Policy: ReportRecordOnSuccess | ReportSysinfoOnSuccess},
		set(Parameters{ParamImageDigest: digestOf("abd")}),
		Command{Code: CondImageMatch, Policy: ReportRecordOnFailure | ReportSysinfoOnFailure},
	}
	v, res, err := reportRun(t, install, nil)
	if !errors.Is(err, ErrImageMismatch) {
		t.Fatalf("Process = %v, want ErrImageMismatch", err)
	}
	rep := NewReport(v, res, err, ReportOptions{Nonce: []byte("nonce-1"), Capabilities: true})
	if rep.Result == nil || rep.Result.Reason != ReasonConditionFailed || rep.Result.Code != ErrorCode(ErrImageMismatch) {
		t.Fatalf("result %+v", rep.Result)
	}
	// The failing image-match is at its offset in the install sequence,
	// with the digest it found as the reason.
	wantOffset := uint64(len(install[:5].Encode())) // the array heads of 10 and 12 items are one byte each
	rr := rep.Result.Record
	if rr.Section != KeyInstall || rr.Offset != wantOffset || rr.Component != 0 || len(rr.ManifestID) != 0 {
		t.Errorf("result record %+v, want install at offset %d", rr, wantOffset)
	}
	if d, ok := rr.Properties.Digest(ParamImageDigest); !ok || !d.Equal(digestOf("abc").Bytes) {
		t.Errorf("result properties %v, want the digest of what the component holds", rr.Properties)
	}
	// vendor-id (sysinfo on success), write (record; it measures nothing),
	// image-match (record and sysinfo on success), image-match (record
	// and sysinfo on failure).
	var kinds []string
	for _, e := range rep.Records {
		switch x := e.(type) {
		case *ReportRecord:
			kinds = append(kinds, fmt.Sprintf("record@%d", x.Offset))
		case *SystemProperties:
			kinds = append(kinds, fmt.Sprintf("sysinfo%s:%d", x.Component, len(x.Properties)))
		}
	}
	if got := strings.Join(kinds, " "); got != fmt.Sprintf("sysinfo[00]:1 record@%d record@%d sysinfo[00]:2 record@%d sysinfo[00]:2",
		len(install[:2].Encode()), len(install[:3].Encode()), wantOffset) {
		t.Errorf("records %s", got)
	}

	device, err := GenerateSigningKey(AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	devicePub, _ := device.Public()
	macKey, _ := NewMACSigningKey(bytes.Repeat([]byte{1}, 32))
	macPub, _ := macKey.Public()
	for _, k := range []*SigningKey{device, macKey} {
		signed, err := rep.Sign(k)
		if err != nil {
			t.Fatal(err)
		}
		got, signer, err := VerifyReport(signed, []*Key{devicePub, macPub})
		if err != nil {
			t.Fatalf("%s: VerifyReport: %v", AlgName(k.Alg), err)
		}
		want, _ := k.Public()
		if signer != want.ID {
			t.Errorf("signer %s, want %s", signer, want.ID)
		}
		if !bytes.Equal(got.Encode(), rep.Encode()) {
			t.Errorf("%s: round trip changed the report:\n got %x\nwant %x", AlgName(k.Alg), got.Encode(), rep.Encode())
		}
		other, _ := GenerateSigningKey(AlgES256)
		otherPub, _ := other.Public()
		if _, _, err := VerifyReport(signed, []*Key{otherPub}); !errors.Is(err, ErrBadSignature) {
			t.Errorf("verified with another key: %v", err)
		}
		for i := range signed {
			bad := bytes.Clone(signed)
			bad[i] ^= 0x01
			if _, _, err := VerifyReport(bad, []*Key{devicePub, macPub}); err == nil {
				t.Fatalf("%s: byte %d flipped: still verifies", AlgName(k.Alg), i)
			} else if !errors.Is(err, ErrRejected) {
				t.Fatalf("byte %d: %v is not ErrRejected", i, err)
			}
		}
	}
}

// TestReportGolden pins the encoding of a small report byte by byte:
//
//	a4                                 map of 4
//	   02 43 6e 2d 31                  nonce: 'n-1'
//	   03 81                           records: array of 1
//	      85 80 14 0a 00 a0            [[], 20 (install), 10, 0, {}]
//	   04 a3                           result: map of 3
//	      05 18 2c                     code: 44 (ErrImageMismatch)
//	      06 85 80 14 0a 00 a1 0e 03   record: [[], 20, 10, 0, {14: 3}]
//	      07 0a                        reason: 10 (condition-failed)
//	   18 63 82                        reference (99): array of 2
//	      60                           uri: ""
//	      82 2f 58 20 <32 bytes>       digest: [-16 (SHA-256), h'00..1f']
func TestReportGolden(t *testing.T) {
	digest := make([]byte, 32)
	for i := range digest {
		digest[i] = byte(i)
	}
	rep := &Report{
		ManifestDigest: Digest{Alg: AlgSHA256, Bytes: digest},
		Nonce:          []byte("n-1"),
		Records:        []ReportEntry{&ReportRecord{Section: KeyInstall, Offset: 10}},
		Result: &ReportResult{Code: 44, Reason: ReasonConditionFailed,
			Record: ReportRecord{Section: KeyInstall, Offset: 10, Properties: Parameters{ParamImageSize: uint64(3)}}},
	}
	want := "a4" + "02436e2d31" + "03" + "81" + "8580140a00a0" + "04a3" + "05182c" + "068580140a00a10e03" + "070a" +
		"186382" + "60" + "822f5820" + hex.EncodeToString(digest)
	got := hex.EncodeToString(rep.Encode())
	if got != want {
		t.Fatalf("encoding:\n got %s\nwant %s", got, want)
	}
	back, err := ParseReport(rep.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(back.Encode()) != want {
		t.Fatal("parsed report re-encodes differently")
	}
	diag, err := Diagnose(rep.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(diag, `{2: h'6e2d31', 3: [[[], 20, 10, 0, {}]], 4: {5: 44, 6: [[], 20, 10, 0, {14: 3}], 7: 10}, 99: ["", [-16, h'0001`) {
		t.Errorf("diagnostic %s", diag)
	}
}

func TestReportSuccess(t *testing.T) {
	v, res, err := reportRun(t, Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(v, res, nil, ReportOptions{})
	if rep.Result != nil || rep.Capabilities != nil || len(rep.Records) != 1 || !rep.ManifestDigest.Equal(v.Digest.Bytes) {
		t.Fatalf("report %+v", rep)
	}
	enc := rep.Encode()
	back, err := ParseReport(enc)
	if err != nil || back.Result != nil {
		t.Fatalf("ParseReport = %+v, %v", back, err)
	}
	// Every strict prefix of a report fails to parse.
	for n := range len(enc) {
		if _, err := ParseReport(enc[:n]); !errors.Is(err, ErrRejected) {
			t.Fatalf("prefix of %d/%d bytes: %v", n, len(enc), err)
		}
	}
}

// TestReportReasons maps the errors of processing and of authentication
// to the draft's reasons; an unsupported capability brings the
// capability report along.
func TestReportReasons(t *testing.T) {
	tests := []struct {
		name    string
		install Sequence
		want    ReportReason
		caps    bool
	}{
		{"condition", Sequence{cond(CondAbort)}, ReasonConditionFailed, false},
		{"operation", Sequence{set(Parameters{ParamURI: "https://nowhere"}), dir(DirFetch)}, ReasonOperationFailed, false},
		{"unknown command", Sequence{{Code: 60, Policy: 15}}, ReasonCommandUnsupported, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, res, err := reportRun(t, tc.install, nil)
			if err == nil {
				t.Fatal("Process succeeded")
			}
			rep := NewReport(v, res, err, ReportOptions{})
			if rep.Result.Reason != tc.want || (rep.Capabilities != nil) != tc.caps {
				t.Fatalf("reason %s, capabilities %v; want %s, %v", rep.Result.Reason, rep.Capabilities != nil, tc.want, tc.caps)
			}
		})
	}
	for err, want := range map[error]ReportReason{
		ErrBadSignature: ReasonUnauthorised, ErrUnauthenticated: ReasonUnauthorised,
		malformed("x"): ReasonCBORParse, unsupportedAs(ErrUnsupportedCOSE, "x"): ReasonCOSEUnsupported,
		unsupportedAs(ErrUnsupportedAlgorithm, "x"): ReasonAlgUnsupported, ErrUnauthorized: ReasonComponentUnauthorised,
		ErrRollback: ReasonConditionFailed, errors.New("flash fault"): ReasonOperationFailed,
	} {
		if got := ReasonFor(err); got != want {
			t.Errorf("ReasonFor(%v) = %s, want %s", err, got, want)
		}
	}
	if ErrorCode(errors.New("flash fault")) != 100 || ErrorCode(fmt.Errorf("x: %w", ErrImageMismatch)) != 44 {
		t.Error("error codes")
	}
	rep := NewFailureReport([]byte{0x01, 0x02}, ErrMalformed, ReportOptions{})
	if !rep.ManifestDigest.Equal(reportDigestOf([]byte{1, 2}).Bytes) || rep.Result.Reason != ReasonCBORParse {
		t.Errorf("failure report %+v", rep)
	}
	if _, err := ParseReport(rep.Encode()); err != nil {
		t.Errorf("failure report does not parse: %v", err)
	}
}

// TestReportParseRefuses edits a valid report into shapes the parser must
// refuse.
func TestReportParseRefuses(t *testing.T) {
	digest := Digest{Alg: AlgSHA256, Bytes: make([]byte, 32)}
	base := (&Report{ManifestDigest: digest, Records: []ReportEntry{&ReportRecord{Section: 20}}}).Encode()
	for name, in := range map[string][]byte{
		"not a map":        {0x80},
		"unknown member":   mustMarshal(map[int64]any{1: 1, 3: []any{}, 4: true, 99: []any{"", digest}}),
		"no reference":     mustMarshal(map[int64]any{3: []any{}, 4: true}),
		"result false":     mustMarshal(map[int64]any{3: []any{}, 4: false, 99: []any{"", digest}}),
		"record of 6":      mustMarshal(map[int64]any{3: []any{[]any{[]any{}, 20, 0, 0, map[int64]any{}, 1}}, 4: true, 99: []any{"", digest}}),
		"unknown param":    mustMarshal(map[int64]any{3: []any{[]any{[]any{}, 20, 0, 0, map[int64]any{99: 1}}}, 4: true, 99: []any{"", digest}}),
		"claims without 0": mustMarshal(map[int64]any{3: []any{map[int64]any{14: 1, 21: "x"}}, 4: true, 99: []any{"", digest}}),
		"trailing byte":    append(bytes.Clone(base), 0),
	} {
		if _, err := ParseReport(in); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: ParseReport = %v, want a refusal", name, err)
		}
	}
}
