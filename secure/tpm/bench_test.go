package tpm_test

import (
	"testing"

	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

func BenchmarkIncrementCounter(b *testing.B) {
	tp := tpmtest.Open(b)
	if err := tp.DefineCounter(counterIndex); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := tp.IncrementCounter(counterIndex); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdvanceCounterBy1000(b *testing.B) {
	tp := tpmtest.Open(b)
	if err := tp.DefineCounter(counterIndex); err != nil {
		b.Fatal(err)
	}
	var v uint64
	for b.Loop() {
		v += 1000
		if err := tp.AdvanceCounterTo(counterIndex, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRaiseRollbackIndex raises a rollback index by a timestamp's
// worth each time: one read and one write whatever the distance.
func BenchmarkRaiseRollbackIndex(b *testing.B) {
	tp := tpmtest.Open(b)
	if err := tp.DefineRollbackIndex(testIndex); err != nil {
		b.Fatal(err)
	}
	var v uint64
	for b.Loop() {
		v += 1764765716
		if err := tp.RaiseRollbackIndex(testIndex, v); err != nil {
			b.Fatal(err)
		}
	}
}
