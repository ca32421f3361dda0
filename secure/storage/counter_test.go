package storage_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/storage"
)

// failingCounter is the store's TPM counter behind a TPM that cannot save
// its NV (as the emulator's cannot on a full disk): while broken, every
// advance fails without effect.
type failingCounter struct {
	tpmCounter
	broken bool
}

var errNVUnavailable = errors.New("TPM NV unavailable")

func (c *failingCounter) AdvanceTo(v uint64) error {
	if c.broken {
		return errNVUnavailable
	}
	return c.tpmCounter.AdvanceTo(v)
}

// TestCounterFailsAfterBank: a change whose bank is written stands even if
// the counter then fails to advance, and is reported done (Open finds it
// and completes the advance). The next change first raises the counter;
// while it cannot, that change is refused with nothing written, so the
// counter is never two generations behind the banks (which Open would take
// for tampering); once it can, the change goes through.
func TestCounterFailsAfterBank(t *testing.T) {
	fx := newFixture(t)
	fx.format(t)
	counter := &failingCounter{tpmCounter: fx.counter}
	s, err := storage.Open(fx.flash, region, fx.tpm, counter)
	if err != nil {
		t.Fatal(err)
	}
	counter.broken = true
	if err := s.Apply([]storage.TA{installed("hello", 1, "v1", "")}); err != nil {
		t.Fatalf("a change whose bank is written, counter broken: %v", err)
	}
	banks := fx.banks(t)
	if err := s.Apply([]storage.TA{installed("hello", 2, "v2", "")}); !errors.Is(err, errNVUnavailable) {
		t.Fatalf("a second change with the counter still broken: %v", err)
	}
	if !bytes.Equal(banks, fx.banks(t)) {
		t.Fatal("the refused change wrote the banks")
	}
	counter.broken = false
	if err := s.Apply([]storage.TA{installed("hello", 3, "v3", "")}); err != nil {
		t.Fatalf("a change once the counter works: %v", err)
	}
	after := fx.open(t)
	if after.Generation() != s.Generation() || describe(after.TAs()) != describe(s.TAs()) {
		t.Fatalf("after a restart: generation %d %s, the store reported %d %s",
			after.Generation(), describe(after.TAs()), s.Generation(), describe(s.TAs()))
	}
}

// banks reads the store's region.
func (fx *fixture) banks(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 2*region.BankSectors*region.SectorSize)
	if err := fx.flash.Read(region.Off, b); err != nil {
		t.Fatal(err)
	}
	return b
}
