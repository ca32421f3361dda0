package tpm

import "testing"

func BenchmarkIncrementCounter(b *testing.B) {
	if !haveSimulator {
		b.Skip("the reference TPM needs cgo")
	}
	tp, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer tp.Close()
	if err := tp.DefineCounter(testIndex); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := tp.IncrementCounter(testIndex); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdvanceCounterBy1000(b *testing.B) {
	if !haveSimulator {
		b.Skip("the reference TPM needs cgo")
	}
	tp, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer tp.Close()
	if err := tp.DefineCounter(testIndex); err != nil {
		b.Fatal(err)
	}
	var v uint64
	for b.Loop() {
		v += 1000
		if err := tp.AdvanceCounterTo(testIndex, v); err != nil {
			b.Fatal(err)
		}
	}
}
