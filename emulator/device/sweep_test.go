package device

import (
	"context"
	"testing"
)

// TestSweepSample runs every scenario and cut mode on a sample of the
// flash operations (make sweep runs them all); every run must keep the
// invariants.
func TestSweepSample(t *testing.T) {
	for _, sc := range Scenarios {
		for _, mode := range CutModes {
			res, err := Sweep(context.Background(), sc, mode, SweepOptions{Stride: 5, SecondCutEvery: 3, TempDir: t.TempDir()})
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
