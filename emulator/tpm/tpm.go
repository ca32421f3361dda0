package tpm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The reference TPM is C globals: one per process. held is true from the
// start of a successful Open to the end of Close.
var (
	heldMu sync.Mutex
	held   bool
)

// TPM is the device's TPM chip: a transport for TPM commands (Send,
// Batch) with power (Reset, Close). Its methods are safe for concurrent
// use; each returns only after any change its commands made to NV is saved.
type TPM struct {
	dir  string
	lock *os.File

	mu     sync.Mutex // guards everything below and the simulator itself
	sim    *simulator.Simulator
	raw    transport.TPM
	saved  []byte // NV image as last written to dir
	closed bool
}

// Open powers on the TPM whose NV lives in dir, creating dir if needed.
//
// If dir holds a saved NV image the TPM comes up as after a power cut: same
// seeds, NV indices and counters, PCRs reset. Otherwise a new TPM is
// manufactured (fresh random seeds) and its NV saved at once. Open returns
// ErrBusy while another TPM is open in this process or dir is held by another
// process, and ErrStateCorrupt if the saved image cannot be used; it never
// replaces a saved image it cannot use.
func Open(dir string) (*TPM, error) {
	if !haveSimulator {
		return nil, ErrNoSimulator
	}
	heldMu.Lock()
	if held {
		heldMu.Unlock()
		return nil, fmt.Errorf("%w: a TPM is already open in this process", ErrBusy)
	}
	held = true
	heldMu.Unlock()

	t, err := open(dir)
	if err != nil {
		release()
		return nil, err
	}
	return t, nil
}

func release() {
	heldMu.Lock()
	held = false
	heldMu.Unlock()
}

func open(dir string) (_ *TPM, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open tpm: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = unlockDir(lock) // the error that matters is err; the lock goes with the process anyway
		}
	}()
	image, err := readState(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		image = nil
	case err != nil:
		return nil, fmt.Errorf("open tpm %s: %w", dir, err)
	}

	// Get manufactures a TPM (new seeds) and sends TPM2_Startup(CLEAR).
	sim, err := simulator.Get()
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	t := &TPM{dir: dir, lock: lock, sim: sim, raw: transport.FromReadWriter(sim)}
	defer func() {
		if err != nil {
			sim.Close()
		}
	}()
	if err := nvCheck(); err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	if image != nil {
		// Put the saved chip back and power on from it.
		if err := nvLoad(image); err != nil {
			return nil, fmt.Errorf("open tpm %s: %w", dir, err)
		}
		if err := t.powerOn(); err != nil {
			return nil, fmt.Errorf("open tpm %s: %w: %w", dir, ErrStateCorrupt, err)
		}
	}
	if err := t.commit(); err != nil {
		return nil, fmt.Errorf("open tpm %s: %w", dir, err)
	}
	return t, nil
}

// powerOn runs the platform's power-on (_TPM_Init) and TPM2_Startup(CLEAR).
// Whatever state the TPM was in is lost except NV, as after a power cut.
func (t *TPM) powerOn() error {
	platPowerOn()
	if _, err := (tpm2.Startup{StartupType: tpm2.TPMSUClear}).Execute(t.raw); err != nil {
		return fmt.Errorf("startup: %w", err)
	}
	return nil
}

// commit saves the NV image to dir if it changed since the last save. It is
// the NVChip write of Microsoft's simulator, done after each operation.
func (t *TPM) commit() error {
	image := nvImage()
	if bytes.Equal(image, t.saved) {
		return nil
	}
	if err := writeState(t.dir, image); err != nil {
		return err
	}
	t.saved = image
	return nil
}

// do runs op on the open TPM under the lock and then saves NV, so that the
// caller hears of success only once the effect survives a crash. NV is saved
// even when op fails part-way: whatever the TPM did, it did.
func (t *TPM) do(op func() error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	err := op()
	if cerr := t.commit(); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

// Reset cuts the power and powers the TPM on again: no TPM2_Shutdown, then
// _TPM_Init and TPM2_Startup(CLEAR). PCRs return to their reset values,
// sessions and transient objects are gone, and NV (counters included) is
// kept. Handles of objects and sessions made before Reset are invalid after it.
func (t *TPM) Reset() error {
	return t.do(t.powerOn)
}

// Close shuts the TPM down in order (TPM2_Shutdown(CLEAR)), saves NV and
// frees the process's simulator for the next Open. The TPM must not be used
// afterwards; a second Close returns ErrClosed.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.closed = true
	defer release()
	// sim.Close sends the Shutdown and unlocks the simulator package; the
	// held flag still keeps this package's Open out until NV is saved.
	err := t.sim.Close()
	if err != nil {
		err = fmt.Errorf("shutdown: %w", err)
	}
	return errors.Join(err, t.commit(), unlockDir(t.lock))
}

// Send sends one TPM command and returns the TPM's response: TPM is a
// go-tpm transport (transport.TPM). The command runs under the TPM's lock
// and NV is saved after it. After Close, Send returns ErrClosed.
func (t *TPM) Send(cmd []byte) ([]byte, error) {
	var rsp []byte
	err := t.do(func() error {
		var err error
		rsp, err = t.raw.Send(cmd)
		return err
	})
	return rsp, err
}

// Batch runs op, which sends its commands through the transport it is
// given, with the TPM to itself, and saves NV once after all of them: a
// group of commands that belong together (a read and the write that
// depends on it, a loop of increments) is one operation, which returns
// only once its NV effect is on disk. The transport must not be used
// after op returns.
func (t *TPM) Batch(op func(transport.TPM) error) error {
	return t.do(func() error { return op(t.raw) })
}
