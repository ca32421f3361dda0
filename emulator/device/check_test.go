package device

import (
	"context"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/boot"
)

// TestCheckBootCatchesViolations proves the sweep's checker can fail: each
// broken boot result, fed to it on a real rig, is reported.
func TestCheckBootCatchesViolations(t *testing.T) {
	ctx := context.Background()
	sc, _ := ScenarioByName("atomic")
	r, err := newSweepRig(ctx, t.TempDir(), sc)
	if err != nil {
		t.Fatal(err)
	}
	defer r.chip.Close()
	r.f.Reset()
	r.chip.Reset()
	good, err := r.b.Boot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.checkBoot(good)
	if len(r.res.violations) != 0 {
		t.Fatalf("a good boot reported: %v", r.res.violations)
	}
	image := func(c boot.Component, seq uint64) *boot.Image {
		return &boot.Image{Component: c, SequenceNumber: seq, ImageDigest: sha256Of(sweepImage(c, seq))}
	}
	tests := []struct {
		name  string
		res   *boot.Result
		setup func()
		want  string
	}{
		{"mixed pair", &boot.Result{Images: []*boot.Image{image(boot.Secure, 2), image(boot.Normal, 1)}, Events: good.Events},
			nil, "mixed"},
		{"wrong image bytes", &boot.Result{Images: []*boot.Image{good.Images[0], {Component: boot.Normal, SequenceNumber: 1, ImageDigest: make([]byte, 32)}}, Events: good.Events},
			nil, "does not hash"},
		{"log does not replay", &boot.Result{Images: good.Images}, nil, "replay"},
		{"image below its counter", good, func() { r.counters = [2]uint64{1, 1}; (Counters{TPM: r.tp}).AdvanceCounterTo(boot.Normal, 2) }, "below its counter"},
		{"counter went back", good, func() { r.counters = [2]uint64{5, 5} }, "went back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.res.violations = nil
			if tc.setup != nil {
				tc.setup()
			}
			r.checkBoot(tc.res)
			if !strings.Contains(strings.Join(r.res.violations, ";"), tc.want) {
				t.Errorf("violations %q, want one about %q", r.res.violations, tc.want)
			}
		})
	}
}
