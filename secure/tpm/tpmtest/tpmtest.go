// Package tpmtest opens a TPM backed by the reference simulator for the
// tests of secure/* packages, so that they need not import the emulator.
// It is a test kit: production code never imports it.
//
// It trusts the simulator (emulator/tpm) to be a TPM 2.0. The simulator is
// one per process, so Open waits until no other test of the process holds
// it, and the test's cleanup closes it.
package tpmtest

import (
	"errors"
	"testing"
	"time"

	emutpm "github.com/teeup/teeup/emulator/tpm"
	"github.com/teeup/teeup/secure/tpm"
)

// held serializes the tests of a process on the one simulator: a token
// in it means the simulator is free.
var held = func() chan struct{} {
	c := make(chan struct{}, 1)
	c <- struct{}{}
	return c
}()

// maxWait is how long Open waits for the simulator before it fails the
// test (a test that opens it twice without closing would wait forever).
const maxWait = 5 * time.Minute

// Sim is a simulator-backed TPM opened for one test.
type Sim struct {
	// TPM sends the secure world's commands to the simulator.
	*tpm.TPM
	// Chip is the simulator itself: power, raw commands, persistence.
	Chip *emutpm.TPM
	// Dir holds the simulator's NV state.
	Dir string
}

// Open manufactures a new simulated TPM in a directory of its own and
// returns it; it is closed when the test ends. Tests that call Open run one
// at a time within a process even when marked parallel.
func Open(t testing.TB) *Sim {
	t.Helper()
	return OpenDir(t, t.TempDir())
}

// OpenDir is Open on the TPM whose NV state is kept in dir: a TPM saved
// there before comes up as after a power cut.
func OpenDir(t testing.TB, dir string) *Sim {
	t.Helper()
	select {
	case <-held:
	case <-time.After(maxWait):
		t.Fatalf("the simulated TPM is still held by another test (or by this one, not closed) after %v", maxWait)
	}
	chip, err := emutpm.Open(dir)
	if errors.Is(err, emutpm.ErrNoSimulator) {
		held <- struct{}{}
		t.Skip("the reference TPM needs cgo")
	}
	if err != nil {
		held <- struct{}{}
		t.Fatalf("open simulated TPM: %v", err)
	}
	s := &Sim{TPM: tpm.New(chip), Chip: chip, Dir: dir}
	t.Cleanup(func() { s.close() })
	return s
}

// close closes the simulator once, however often it is called.
func (s *Sim) close() {
	if s.Chip == nil {
		return
	}
	s.Chip.Close()
	s.Chip = nil
	held <- struct{}{}
}

// Close powers the TPM off in order and frees the simulator for the next
// Open, before the test ends (to reopen the same Dir, say).
func (s *Sim) Close() { s.close() }

// Reset is a power cut and power-on of the TPM: PCRs reset, NV kept.
func (s *Sim) Reset(t testing.TB) {
	t.Helper()
	if err := s.Chip.Reset(); err != nil {
		t.Fatalf("reset TPM: %v", err)
	}
}
