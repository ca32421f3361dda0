package dryrun_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// manageManifest signs a one-component manifest whose install sequence is
// install (already encoded command pairs).
func manageManifest(t *testing.T, install []any) *suit.Verified {
	t.Helper()
	common, _ := cbor.Marshal(map[int]any{2: [][][]byte{{{0}}}})
	seq, _ := cbor.Marshal(install)
	manifest, _ := cbor.Marshal(map[int]any{1: 1, 2: 1, 3: common, 20: seq})
	key, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.Public()
	v, err := signManifest(t, manifest, key).Authenticate([]*suit.Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func enc(v any) []byte { b, _ := cbor.Marshal(v); return b }

// TestDeviceUpdateManagement loads a device description with a clock, a
// battery, an approver and component versions, and runs the
// update-management conditions and a simulated wait against it.
func TestDeviceUpdateManagement(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "device.json")
	os.WriteFile(cfg, []byte(`{"time": "2027-01-15T10:00:00Z", "battery-mwh": 800, "approve-updates": true,
	  "components": [{"id": ["00"], "version": [1, 4, 0]}]}`), 0o644)
	jan15 := time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		install []any
		want    error
		check   func(*testing.T, *dryrun.Device)
	}{
		{"all conditions hold", []any{
			20, map[int]any{4: uint64(jan15.Unix() + 60), 26: 700, 27: 1, 28: enc([]any{2, []int{1, 4}})},
			4, 15, 26, 15, 27, 15, 28, 15}, nil, nil},
		{"expired", []any{20, map[int]any{4: uint64(jan15.Unix())}, 4, 15}, suit.ErrExpired, nil},
		{"battery", []any{20, map[int]any{26: 801}, 26, 15}, suit.ErrBatteryLow, nil},
		{"version", []any{20, map[int]any{28: enc([]any{1, []int{1, 4}})}, 28, 15}, suit.ErrVersionMismatch, nil},
		{"wait until the next 03:00 UTC, then expired", []any{
			20, map[int]any{29: enc(map[int]any{8: 3 * 3600, 2: 1}), 4: uint64(jan15.Unix() + 3600)}, 29, 15, 4, 15},
			suit.ErrExpired, func(t *testing.T, d *dryrun.Device) {
				if want := time.Date(2027, 1, 16, 3, 0, 0, 0, time.UTC); !d.Time.Equal(want) || len(d.Waited) != 1 {
					t.Errorf("clock %s after %d waits, want %s", d.Time, len(d.Waited), want)
				}
			}},
		{"wait on a Sunday", []any{20, map[int]any{29: enc(map[int]any{9: 0})}, 29, 15}, nil, func(t *testing.T, d *dryrun.Device) {
			if d.Time.Weekday() != time.Sunday || !d.Time.After(jan15) {
				t.Errorf("clock %s", d.Time)
			}
		}},
		{"wait in local time", []any{20, map[int]any{29: enc(map[int]any{6: 60})}, 29, 15}, suit.ErrUnsupportedCommand, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev, err := dryrun.LoadConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v := manageManifest(t, tc.install)
			res, err := suit.Process(context.Background(), v, dev, suit.Options{Sequences: []int64{suit.KeyInstall}, Details: true})
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.want, res.Trace())
			}
			if tc.check != nil {
				tc.check(t, dev)
			}
		})
	}
	// A device with none of it configured refuses rather than assumes.
	v := manageManifest(t, []any{20, map[int]any{27: 0}, 27, 15})
	if _, err := suit.Process(context.Background(), v, &dryrun.Device{}, suit.Options{Sequences: []int64{suit.KeyInstall}}); !errors.Is(err, suit.ErrUnsupportedCommand) {
		t.Errorf("update-authorized on a device without an approver: %v", err)
	}
}
