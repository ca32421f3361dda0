package tpm_test

import (
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

const counterIndex = 0x01500010

func wantCounter(t *testing.T, tp *tpm.TPM, index uint32, want uint64) {
	t.Helper()
	got, err := tp.Counter(index)
	if err != nil {
		t.Fatalf("Counter(%#x): %v", index, err)
	}
	if got != want {
		t.Fatalf("Counter(%#x) = %d, want %d", index, got, want)
	}
}

func TestCounterDefineIncrementRead(t *testing.T) {
	tp := tpmtest.Open(t).TPM
	if err := tp.DefineCounter(counterIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	wantCounter(t, tp, counterIndex, 0)
	for want := uint64(1); want <= 3; want++ {
		if err := tp.IncrementCounter(counterIndex); err != nil {
			t.Fatalf("IncrementCounter: %v", err)
		}
		wantCounter(t, tp, counterIndex, want)
	}
	// A second counter is independent of the first.
	const other = counterIndex + 1
	if err := tp.DefineCounter(other); err != nil {
		t.Fatalf("DefineCounter(other): %v", err)
	}
	if err := tp.IncrementCounter(other); err != nil {
		t.Fatalf("IncrementCounter(other): %v", err)
	}
	wantCounter(t, tp, other, 1)
	wantCounter(t, tp, counterIndex, 3)
}

func TestCounterErrors(t *testing.T) {
	sim := tpmtest.Open(t)
	tp := sim.TPM
	if err := tp.DefineCounter(counterIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	// An ordinary NV index (a rollback index).
	const ordinary = 0x01500020
	if err := tp.DefineRollbackIndex(ordinary); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"define twice", func() error { return tp.DefineCounter(counterIndex) }, tpm.ErrIndexExists},
		{"define over ordinary index", func() error { return tp.DefineCounter(ordinary) }, tpm.ErrIndexExists},
		{"read undefined", func() error { _, err := tp.Counter(counterIndex + 7); return err }, tpm.ErrIndexUndefined},
		{"increment undefined", func() error { return tp.IncrementCounter(counterIndex + 7) }, tpm.ErrIndexUndefined},
		{"advance undefined", func() error { return tp.AdvanceCounterTo(counterIndex+7, 1) }, tpm.ErrIndexUndefined},
		{"read ordinary index", func() error { _, err := tp.Counter(ordinary); return err }, tpm.ErrWrongIndexType},
		{"increment ordinary index", func() error { return tp.IncrementCounter(ordinary) }, tpm.ErrWrongIndexType},
		{"raise a counter as a rollback index", func() error { return tp.RaiseRollbackIndex(counterIndex, 5) }, tpm.ErrWrongIndexType},
		{"define non-NV handle", func() error { return tp.DefineCounter(0x81000001) }, tpm.ErrInvalidArgument},
		{"read non-NV handle", func() error { _, err := tp.Counter(0x40000001); return err }, tpm.ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	wantCounter(t, tp, counterIndex, 0)
	// The owner cannot increment a platform counter.
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(counterIndex)}.Execute(sim.Chip)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpm2.NVIncrement{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex: tpm2.NamedHandle{Handle: counterIndex, Name: pub.NVName}}.Execute(sim.Chip)
	if err == nil {
		t.Fatal("the owner incremented a platform counter")
	}
	wantCounter(t, tp, counterIndex, 0)
}

func TestAdvanceCounterTo(t *testing.T) {
	sim := tpmtest.Open(t)
	tp := sim.TPM
	if err := tp.DefineCounter(counterIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	steps := []struct {
		name    string
		to      uint64
		wantErr error
		want    uint64
	}{
		{"never-written counter to 0 is a no-op", 0, nil, 0},
		{"first advance", 5, nil, 5},
		{"same value is a no-op", 5, nil, 5},
		{"backward refused", 4, tpm.ErrBackward, 5},
		{"zero refused", 0, tpm.ErrBackward, 5},
		{"forward again", 9, nil, 9},
		{"too far refused", 9 + tpm.MaxCounterAdvance + 1, tpm.ErrAdvanceTooFar, 9},
		{"exactly the limit", 9 + tpm.MaxCounterAdvance, nil, 9 + tpm.MaxCounterAdvance},
	}
	for _, s := range steps {
		err := tp.AdvanceCounterTo(counterIndex, s.to)
		if s.wantErr == nil && err != nil || !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: AdvanceCounterTo(%d) = %v, want %v", s.name, s.to, err, s.wantErr)
		}
		wantCounter(t, tp, counterIndex, s.want)
	}
	// Kept across a power cut and a restart of the TPM.
	sim.Reset(t)
	dir := sim.Dir
	sim.Close()
	wantCounter(t, tpmtest.OpenDir(t, dir).TPM, counterIndex, 9+tpm.MaxCounterAdvance)
}
