package device

import (
	"context"
	"testing"
)

// Sample strides of TestSweepSample: every fifth flash operation in a full
// run (make test-full), every thirteenth with -short (make test), which
// keeps the sweep from dominating make test's time. make sweep cuts at
// every operation.
const (
	sweepStride      = 5
	sweepStrideShort = 13
)

// TestSweepSample runs every scenario and cut mode on a sample of the
// flash operations (make sweep runs them all); every run must keep the
// invariants. The scenarios cannot run in parallel: the process holds one
// reference TPM at a time.
func TestSweepSample(t *testing.T) {
	stride := sweepStride
	if testing.Short() {
		stride = sweepStrideShort
	}
	for _, sc := range Scenarios {
		for _, mode := range CutModes {
			res, err := Sweep(context.Background(), sc, mode, SweepOptions{Stride: stride, SecondCutEvery: 3, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(res)
			if res.Violations != 0 || res.Cuts == 0 {
				t.Errorf("%s: %v", res, res.Failures)
			}
		}
	}
}
