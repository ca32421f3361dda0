package suit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// managedMem is the recording platform with the update-management
// interfaces, each answering from a field.
type managedMem struct {
	*memPlatform
	now      time.Time
	battery  uint64
	approve  bool
	versions map[string][]int64
	waited   []WaitInfo
}

func (m *managedMem) Now() (time.Time, error)       { return m.now, nil }
func (m *managedMem) BatteryLevel() (uint64, error) { return m.battery, nil }
func (m *managedMem) ApproveUpdate(_ context.Context, t Target, p int64) (bool, error) {
	m.log("approve %s %d", t.ID, p)
	return m.approve, nil
}
func (m *managedMem) ComponentVersion(t Target) ([]int64, error) {
	return m.versions[t.ID.String()], nil
}
func (m *managedMem) Wait(_ context.Context, t Target, w WaitInfo) error {
	m.waited = append(m.waited, w)
	if at, ok := w.Events[WaitTime]; ok && at > m.now.Unix() {
		m.now = time.Unix(at, 0)
	}
	return nil
}

func newManaged() *managedMem {
	return &managedMem{memPlatform: newMem(), now: time.Unix(1_800_000_000, 0), battery: 500, approve: true,
		versions: map[string][]int64{"[00]": {1, 2, 3}, "[01]": {2, 0, -1, 1}}}
}

func vm(typ int64, v ...int64) VersionMatch { return VersionMatch{Type: typ, Version: v} }

// TestUpdateManagement runs each update-management condition and directive
// passing and failing, without its parameter, and on a platform that
// lacks the interface it needs.
func TestUpdateManagement(t *testing.T) {
	abc := digestOf("abc")
	write := Sequence{set(Parameters{ParamContent: []byte("abc")}), dir(DirWrite)}
	tests := []struct {
		name    string
		install Sequence
		bare    bool // run on the platform without the interfaces
		setup   func(*managedMem)
		want    error
		events  string
	}{
		{name: "use-before in the future", install: Sequence{set(Parameters{ParamUseBefore: uint64(1_800_000_001)}), cond(CondUseBefore)}},
		{name: "use-before now is too late", install: Sequence{set(Parameters{ParamUseBefore: uint64(1_800_000_000)}), cond(CondUseBefore)}, want: ErrExpired},
		{name: "use-before past int64", install: Sequence{set(Parameters{ParamUseBefore: uint64(1 << 63)}), cond(CondUseBefore)}},
		{name: "use-before without the parameter", install: Sequence{cond(CondUseBefore)}, want: ErrMissingParameter},
		{name: "use-before without a clock", install: Sequence{set(Parameters{ParamUseBefore: uint64(1)}), cond(CondUseBefore)}, bare: true, want: ErrUnsupportedCommand},

		{name: "image-not-match on another image", install: append(write[:2:2], set(Parameters{ParamImageDigest: digestOf("abd")}), cond(CondImageNotMatch))},
		{name: "image-not-match on no image", install: Sequence{set(Parameters{ParamImageDigest: abc}), cond(CondImageNotMatch)}},
		{name: "image-not-match on the image", install: append(write[:2:2], set(Parameters{ParamImageDigest: abc}), cond(CondImageNotMatch)), want: ErrImageMatches},
		{name: "image-not-match without a digest", install: append(write[:2:2], cond(CondImageNotMatch)), want: ErrMissingParameter},

		{name: "battery enough", install: Sequence{set(Parameters{ParamMinimumBattery: uint64(500)}), cond(CondMinimumBattery)}},
		{name: "battery low", install: Sequence{set(Parameters{ParamMinimumBattery: uint64(501)}), cond(CondMinimumBattery)}, want: ErrBatteryLow},
		{name: "battery without a gauge", install: Sequence{set(Parameters{ParamMinimumBattery: uint64(1)}), cond(CondMinimumBattery)}, bare: true, want: ErrUnsupportedCommand},

		{name: "update approved", install: Sequence{set(Parameters{ParamUpdatePriority: int64(-3)}), cond(CondUpdateAuthorized)}, events: "approve [00] -3"},
		{name: "update declined", install: Sequence{set(Parameters{ParamUpdatePriority: int64(7)}), cond(CondUpdateAuthorized)},
			setup: func(m *managedMem) { m.approve = false }, want: ErrUpdateNotApproved, events: "approve [00] 7"},
		{name: "update-authorized without priority", install: Sequence{cond(CondUpdateAuthorized)}, want: ErrMissingParameter},
		{name: "update-authorized without an approver", install: Sequence{set(Parameters{ParamUpdatePriority: int64(1)}), cond(CondUpdateAuthorized)}, bare: true, want: ErrUnsupportedCommand},

		{name: "version at least 1.2", install: Sequence{set(Parameters{ParamVersion: vm(VersionGreaterEqual, 1, 2)}), cond(CondVersion)}},
		{name: "version below 1.3", install: Sequence{set(Parameters{ParamVersion: vm(VersionLesser, 1, 3)}), cond(CondVersion)}},
		{name: "version not above 1.2.3", install: Sequence{set(Parameters{ParamVersion: vm(VersionGreater, 1, 2, 3)}), cond(CondVersion)}, want: ErrVersionMismatch},
		{name: "version rc below release", install: Sequence{index(1), set(Parameters{ParamVersion: vm(VersionLesser, 2, 0, 0)}), cond(CondVersion)}},
		{name: "version of a component with none", install: Sequence{index(1), set(Parameters{ParamVersion: vm(VersionEqual, 1)}), cond(CondVersion)},
			setup: func(m *managedMem) { delete(m.versions, "[01]") }, want: ErrVersionMismatch},
		{name: "version without the parameter", install: Sequence{cond(CondVersion)}, want: ErrMissingParameter},

		{name: "wait for a time", install: Sequence{set(Parameters{ParamWaitInfo: WaitInfo{Events: map[int64]int64{WaitTime: 1_800_000_100}}}), dir(DirWait),
			set(Parameters{ParamUseBefore: uint64(1_800_000_100)}), cond(CondUseBefore)}, want: ErrExpired},
		{name: "wait without wait-info", install: Sequence{dir(DirWait)}, want: ErrMissingParameter},
		{name: "wait without a waiter", install: Sequence{set(Parameters{ParamWaitInfo: WaitInfo{Events: map[int64]int64{WaitPower: 1}}}), dir(DirWait)},
			bare: true, want: ErrUnsupportedCommand},

		{name: "override-multiple sets each and selects the last",
			install: Sequence{{Code: DirOverrideMultiple, Multiple: []IndexedParams{
				{Index: 0, Params: Parameters{ParamContent: []byte("zero")}},
				{Index: 1, Params: Parameters{ParamContent: []byte("one")}}}},
				dir(DirWrite), index(0), dir(DirWrite)},
			events: `write [01] "one",write [00] "zero"`},
		{name: "override-multiple out of range", install: Sequence{index(0), {Code: DirOverrideMultiple, Multiple: []IndexedParams{
			{Index: 2, Params: Parameters{ParamContent: []byte("x")}}}}}, want: ErrMalformed},
		{name: "copy-params",
			install: Sequence{index(1), set(Parameters{ParamContent: []byte("shared"), ParamURI: "x"}),
				index(0), {Code: DirCopyParams, CopyFrom: []IndexedKeys{{Index: 1, Keys: []int64{ParamContent, ParamImageDigest}}}}, dir(DirWrite)},
			events: `write [00] "shared"`},
		{name: "copy-params from nowhere", install: Sequence{index(0), {Code: DirCopyParams, CopyFrom: []IndexedKeys{{Index: 5, Keys: []int64{ParamContent}}}}},
			want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			install := tc.install
			if install[0].Code != DirSetComponentIndex {
				install = append(Sequence{index(0)}, install...)
			}
			v := verifiedFor(t, 1, 2, nil, install)
			m := newManaged()
			if tc.setup != nil {
				tc.setup(m)
			}
			var p Platform = m
			if tc.bare {
				p = m.memPlatform
			}
			res, err := Process(context.Background(), v, p, Options{Sequences: []int64{KeyInstall}, Details: true})
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.want, res.Trace())
			}
			if tc.events != "" && strings.Join(m.events, ",") != tc.events {
				t.Errorf("events %q, want %q", strings.Join(m.events, ","), tc.events)
			}
		})
	}
}

// TestVersionMatch checks the comparison against the draft's examples.
func TestVersionMatch(t *testing.T) {
	tests := []struct {
		m    VersionMatch
		have []int64
		want bool
	}{
		{vm(VersionEqual, 1), []int64{1, 9, 9}, true},
		{vm(VersionEqual, 1), []int64{2}, false},
		{vm(VersionGreaterEqual, 1, 0), []int64{1, 0, 5}, true},
		{vm(VersionLesser, 1, 10), []int64{1, 9}, true},
		{vm(VersionLesser, 1, 10), []int64{1, 10, 0}, false},
		{vm(VersionLesser, 2, 0, 0), []int64{2, 0, -1, 1}, true}, // 2.0-rc1 < 2.0.0
		{vm(VersionGreater, 1, 99), []int64{2, 0, -1, 1}, true},  // 2.0-rc1 > any 1.x
		{vm(VersionLesser, 1, 2, -1), []int64{1, 2, -2}, true},   // beta < rc
		{vm(VersionGreater, 1, 2, -1), []int64{1, 2}, true},      // 1.2 (= 1.2.0) > 1.2-rc
		{vm(VersionLesserEqual, 1, 2, 3), []int64{1, 2, 3}, true},
		{vm(VersionGreater, 1, 2, 3), []int64{1, 2, 3}, false},
		{vm(9, 1), []int64{1}, false},
	}
	for _, tc := range tests {
		if got := tc.m.Matches(tc.have); got != tc.want {
			t.Errorf("%s matches %v = %v, want %v", tc.m, tc.have, got, tc.want)
		}
	}
}

// TestUpdateManagementWire round-trips the new parameters, arguments and
// the set-version member through the decoder, and refuses bad ones.
func TestUpdateManagementWire(t *testing.T) {
	seq := Sequence{
		set(Parameters{ParamUseBefore: uint64(7), ParamMinimumBattery: uint64(8), ParamUpdatePriority: int64(-2),
			ParamVersion: vm(VersionGreaterEqual, 1, 2, -3, 4),
			ParamWaitInfo: WaitInfo{Events: map[int64]int64{WaitTime: 99, WaitAuthorization: -1},
				OtherDevice: &OtherDeviceVersion{Device: []byte("modem"), Matches: []VersionMatch{vm(VersionEqual, 3)}}}}),
		{Code: DirOverrideMultiple, Multiple: []IndexedParams{{Index: 0, Params: Parameters{ParamURI: "a"}}, {Index: 3, Params: Parameters{ParamURI: "b"}}}},
		{Code: DirCopyParams, CopyFrom: []IndexedKeys{{Index: 3, Keys: []int64{ParamURI, -5}}}},
		cond(CondUseBefore), cond(CondImageNotMatch), cond(CondMinimumBattery), cond(CondUpdateAuthorized), cond(CondVersion), dir(DirWait),
	}
	enc := seq.Encode()
	got, err := decodeSequence(enc, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytesEqual(got.Encode(), enc) {
		t.Fatalf("re-encoding differs:\n got %x\nwant %x", got.Encode(), enc)
	}
	if v, _ := got[0].Params[ParamVersion].(VersionMatch); fmt.Sprint(v) != ">=[1 2 -3 4]" {
		t.Errorf("version %v", got[0].Params[ParamVersion])
	}
	bad := map[string]Sequence{
		"version type 6":          {set(Parameters{ParamVersion: vm(6, 1)})},
		"version starting rc":     {set(Parameters{ParamVersion: vm(VersionEqual, -1, 2)})},
		"empty version":           {set(Parameters{ParamVersion: vm(VersionEqual)})},
		"unknown wait event":      {set(Parameters{ParamWaitInfo: WaitInfo{Events: map[int64]int64{10: 1}}})},
		"negative wait time":      {set(Parameters{ParamWaitInfo: WaitInfo{Events: map[int64]int64{WaitTime: -1}}})},
		"copy unknown parameter":  {{Code: DirCopyParams, CopyFrom: []IndexedKeys{{Index: 0, Keys: []int64{99}}}}},
		"override-multiple empty": {{Code: DirOverrideMultiple, Multiple: []IndexedParams{}}},
	}
	for name, s := range bad {
		if _, err := decodeSequence(s.Encode(), 0, 0); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: decodeSequence = %v, want a refusal", name, err)
		}
	}
	// suit-set-version is decoded with the manifest.
	m := mustMarshal(map[int64]any{KeyVersion: 1, KeySequenceNumber: 1, KeySetVersion: mustMarshal([]int64{1, 4, 2}),
		KeyCommon: mustMarshal(map[int64]any{keyComponents: [][][]byte{{{0}}}})})
	man, err := decodeManifest(m)
	if err != nil || fmt.Sprint(man.SetVersion) != "[1 4 2]" {
		t.Fatalf("set-version %v, %v", man, err)
	}
	m = mustMarshal(map[int64]any{KeyVersion: 1, KeySequenceNumber: 1, KeySetVersion: mustMarshal([]int64{-1}),
		KeyCommon: mustMarshal(map[int64]any{keyComponents: [][][]byte{{{0}}}})})
	if _, err := decodeManifest(m); !errors.Is(err, ErrMalformed) {
		t.Errorf("set-version [-1]: %v", err)
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
