// Package boottest is the test kit of the bootloader: a bootloader over
// the NOR flash model (in memory, with injectable power cuts and, on
// request, a log of its operations) and a simulated TPM, trusting fresh
// development keys, with what a test needs to sign images for it. It wires
// the emulator's parts into the tests of secure/boot, which do not import
// the emulator themselves.
//
// Trust: for tests only. It holds private signing keys in memory and
// reaches into the hardware a test plays against.
package boottest

import (
	"testing"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/emulator/flash"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

// Rig is a bootloader on emulated hardware, its flash blank until the test
// provisions it. It is not safe for concurrent use.
type Rig struct {
	// Flash is the NOR flash model the bootloader owns.
	Flash *flash.Flash
	// TPM holds the anti-rollback counters and the measurement PCR.
	TPM *tpmtest.Sim
	// Boot is the bootloader.
	Boot *boot.Device
	// Signers are the development keys the bootloader trusts.
	Signers *Signers
}

// Signers are development signing keys: the firmware author, the device
// operator (whose co-signature the secure image needs) and TA authors.
type Signers = device.Signers

// OpKind is the flash model's kind of operation, as its log records it.
type OpKind = flash.OpKind

// The kinds of operation.
const (
	OpErase   = flash.OpErase
	OpProgram = flash.OpProgram
)

// ErrPowerCut is the error of a flash operation that a power cut stopped,
// and of every operation after it until the power comes back.
var ErrPowerCut = flash.ErrPowerCut

// Option changes how New builds the rig.
type Option func(*options)

type options struct {
	counters func(boot.Counters) boot.Counters
}

// WithCounters puts wrap around the TPM's counters as the bootloader sees
// them (to fail them, say).
func WithCounters(wrap func(boot.Counters) boot.Counters) Option {
	return func(o *options) { o.counters = wrap }
}

// New makes a rig for layout, with the TPM's counters defined; with record
// set the flash logs its operations. Everything closes when the test ends.
func New(t testing.TB, layout boot.Layout, record bool, opts ...Option) *Rig {
	t.Helper()
	cfg := device.FlashConfig(layout)
	cfg.Record = record
	f, err := flash.NewMem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sim := tpmtest.Open(t)
	if err := (device.Counters{TPM: sim.TPM}).Define(); err != nil {
		t.Fatal(err)
	}
	s, err := device.NewSigners()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.Policy()
	if err != nil {
		t.Fatal(err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var counters boot.Counters = device.Counters{TPM: sim.TPM}
	if o.counters != nil {
		counters = o.counters(counters)
	}
	b, err := boot.New(f, counters, device.PCR{TPM: sim.TPM},
		boot.Config{Layout: layout, Policy: pol, VendorID: device.VendorID, ClassID: device.ClassID})
	if err != nil {
		t.Fatal(err)
	}
	return &Rig{Flash: f, TPM: sim, Boot: b, Signers: s}
}

// Reboot is a power cycle: the flash and the TPM lose power (PCRs reset),
// then the bootloader runs.
func (r *Rig) Reboot(t testing.TB) (*boot.Result, error) {
	t.Helper()
	r.Flash.Reset()
	r.TPM.Reset(t)
	return r.Boot.Boot(t.Context())
}

// Image is a recognizable image of a component at a version, of size bytes.
func Image(c boot.Component, seq uint64, size int) []byte { return device.BuiltinImage(c, seq, size) }

// Envelope is the SUIT envelope of image as component c at sequence number
// seq, signed by signers in order (none: unsigned).
func Envelope(c boot.Component, seq uint64, image []byte, signers ...*suit.SigningKey) ([]byte, error) {
	return device.Envelope(c, seq, image, signers...)
}
