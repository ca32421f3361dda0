package device

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/teeup/teeup/emulator/flash"
	emutpm "github.com/teeup/teeup/emulator/tpm"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/tpm"
)

// SweepLayout is the small partition table the power-cut sweep uses, so
// that a whole update is a few hundred flash operations.
var SweepLayout = boot.Layout{SectorSize: 1024, WriteAlign: 16, SlotSectors: 3}

// A step is one action of a scenario; a power cut stops it.
type step struct {
	kind stepKind
	set  []uint64 // stage: sequence numbers of secure and normal (0: not in the set)
	busy bool     // stage expected to be refused with ErrBusy
}

type stepKind int

const (
	stepBoot stepKind = iota + 1 // a power cycle and a boot
	stepStage
	stepAccept
)

// Scenario is an update story whose every flash operation the sweep cuts.
type Scenario struct {
	Name string
	// Pairs are the (secure, normal) sequence pairs the device may boot.
	Pairs [][2]uint64
	steps []step
	// revert: an unconfirmed trial is left to revert rather than accepted.
	revert bool
}

// Scenarios are the stories of issue 4: an update of the normal image
// only, of the secure image only, of both atomically, the revert of an
// unconfirmed trial, and a second update asked for during a trial; and of
// issue 11: sequence numbers that jump far above the counters.
var Scenarios = []Scenario{
	{Name: "normal", Pairs: [][2]uint64{{1, 1}, {1, 2}},
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{0, 2}}, {kind: stepBoot}, {kind: stepAccept}, {kind: stepBoot}}},
	{Name: "secure", Pairs: [][2]uint64{{1, 1}, {2, 1}},
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{2, 0}}, {kind: stepBoot}, {kind: stepAccept}, {kind: stepBoot}}},
	{Name: "atomic", Pairs: [][2]uint64{{1, 1}, {2, 2}},
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{2, 2}}, {kind: stepBoot}, {kind: stepAccept}, {kind: stepBoot}}},
	{Name: "revert", Pairs: [][2]uint64{{1, 1}, {2, 2}}, revert: true,
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{2, 2}}, {kind: stepBoot}, {kind: stepBoot}, {kind: stepBoot}}},
	{Name: "double", Pairs: [][2]uint64{{1, 1}, {2, 2}, {3, 3}},
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{2, 2}}, {kind: stepBoot},
			{kind: stepStage, set: []uint64{3, 3}, busy: true}, {kind: stepAccept}, {kind: stepBoot},
			{kind: stepStage, set: []uint64{3, 3}}, {kind: stepBoot}, {kind: stepAccept}, {kind: stepBoot}}},
	// jump: both images to a UTC timestamp (draft-ietf-suit-manifest-37
	// §8.4.2 allows one as the sequence number), far above the counters,
	// then the normal image to the top of uint64.
	{Name: "jump", Pairs: [][2]uint64{{1, 1}, {jumpTimestamp, jumpTimestamp}, {jumpTimestamp, math.MaxUint64}},
		steps: []step{{kind: stepBoot}, {kind: stepStage, set: []uint64{jumpTimestamp, jumpTimestamp}}, {kind: stepBoot},
			{kind: stepAccept}, {kind: stepBoot},
			{kind: stepStage, set: []uint64{0, math.MaxUint64}}, {kind: stepBoot}, {kind: stepAccept}, {kind: stepBoot}}},
}

// jumpTimestamp is 2025-12-03T12:41:56Z in seconds since the epoch.
const jumpTimestamp = 1764765716

// ScenarioByName finds a scenario.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// CutMode is where in a flash operation the power fails.
type CutMode string

// The cut modes: before the operation, after it, torn inside it.
const (
	CutBefore CutMode = "before"
	CutAfter  CutMode = "after"
	CutTorn   CutMode = "torn"
)

// CutModes are all the modes the sweep uses.
var CutModes = []CutMode{CutBefore, CutAfter, CutTorn}

// SweepResult is one line of the sweep: a scenario and a cut mode.
type SweepResult struct {
	Scenario   string
	Mode       CutMode
	Ops        int // flash operations in a clean run
	Cuts       int // runs with a cut
	SecondCuts int // runs with a second cut during recovery
	Violations int
	Failures   []string // what each violation was, for the first few
}

func (r SweepResult) String() string {
	return fmt.Sprintf("scenario=%s mode=%s ops=%d cuts=%d second-cuts=%d violations=%d",
		r.Scenario, r.Mode, r.Ops, r.Cuts, r.SecondCuts, r.Violations)
}

// SweepOptions tune a sweep.
type SweepOptions struct {
	// Stride cuts every Stride-th operation only (1 or 0: every one).
	Stride int
	// SecondCutEvery makes every n-th run cut the power a second time
	// during recovery (0: never).
	SecondCutEvery int
	// TempDir holds the TPM state of each run ("" for the system's).
	TempDir string
}

// Sweep counts the flash operations of a clean run of the scenario, then
// for each operation cuts the power there in mode, recovers, and checks
// the invariants at every boot: a verified pair boots, it is one of the
// scenario's pairs (never a mix), no image runs below its counter, the
// counters never go back, and the event log replays to the PCR.
func Sweep(ctx context.Context, sc Scenario, mode CutMode, opts SweepOptions) (SweepResult, error) {
	res := SweepResult{Scenario: sc.Name, Mode: mode}
	clean, err := runScenario(ctx, sc, nil, opts)
	if err != nil {
		return res, fmt.Errorf("clean run of %s: %w", sc.Name, err)
	}
	if len(clean.violations) > 0 {
		return res, fmt.Errorf("clean run of %s: %s", sc.Name, clean.violations[0])
	}
	res.Ops = clean.ops
	stride := max(opts.Stride, 1)
	for k := 1; k <= clean.ops; k += stride {
		c := &cutPlan{at: k, mode: mode, seed: uint64(k)}
		if opts.SecondCutEvery > 0 && k%opts.SecondCutEvery == 0 {
			c.second = 1 + k%7 // a few operations into the recovery boot
		}
		run, err := runScenario(ctx, sc, c, opts)
		if err != nil {
			return res, fmt.Errorf("%s cut %s at %d: %w", sc.Name, mode, k, err)
		}
		res.Cuts++
		if c.secondFired {
			res.SecondCuts++
		}
		if len(run.violations) > 0 {
			res.Violations++
			if len(res.Failures) < 5 {
				res.Failures = append(res.Failures, fmt.Sprintf("cut %s at op %d: %s", mode, k, run.violations[0]))
			}
		}
	}
	return res, nil
}

// cutPlan is where to cut: at the at-th operation of the whole scenario,
// and optionally again at the second-th operation of the recovery boot.
type cutPlan struct {
	at          int
	mode        CutMode
	seed        uint64
	second      int
	fired       bool
	secondFired bool
}

func arm(f *flash.Flash, mode CutMode, n int, seed uint64) {
	switch mode {
	case CutBefore:
		f.CutBefore(uint64(n))
	case CutAfter:
		f.CutAfter(uint64(n))
	default:
		f.CutTorn(uint64(n), seed)
	}
}

type runResult struct {
	ops        int
	violations []string
}

// rig is one emulated device for one run.
type rig struct {
	f        *flash.Flash
	chip     *emutpm.TPM // power and persistence
	tp       *tpm.TPM    // the secure world's commands
	b        *boot.Device
	signers  *Signers
	sc       Scenario
	cut      *cutPlan
	counters [2]uint64 // highest values seen
	before   int       // operations in finished power cycles
	res      *runResult
}

func runScenario(ctx context.Context, sc Scenario, cut *cutPlan, opts SweepOptions) (*runResult, error) {
	dir, err := os.MkdirTemp(opts.TempDir, "teeup-sweep-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r, err := newSweepRig(ctx, dir, sc)
	if err != nil {
		return nil, err
	}
	defer r.chip.Close()
	r.cut = cut
	r.armFor(cut)
	for _, s := range sc.steps {
		err := r.do(ctx, s)
		if err == nil {
			continue
		}
		if !IsPowerCut(err) {
			r.violate("%v", err)
			break
		}
		if err := r.recover(ctx, cut); err != nil {
			return nil, err
		}
		break
	}
	r.res.ops = r.before + int(r.f.Ops())
	return r.res, nil
}

func newSweepRig(ctx context.Context, dir string, sc Scenario) (*rig, error) {
	f, err := flash.NewMem(FlashConfig(SweepLayout))
	if err != nil {
		return nil, err
	}
	chip, err := emutpm.Open(dir)
	if err != nil {
		return nil, err
	}
	tp := tpm.New(chip)
	r := &rig{f: f, chip: chip, tp: tp, sc: sc, res: &runResult{}}
	if err := (Counters{TPM: tp}).Define(); err != nil {
		chip.Close()
		return nil, err
	}
	if r.signers, err = NewSigners(); err != nil {
		chip.Close()
		return nil, err
	}
	pol, err := r.signers.Policy()
	if err != nil {
		chip.Close()
		return nil, err
	}
	r.b, err = boot.New(f, Counters{TPM: tp}, PCR{TPM: tp},
		boot.Config{Layout: SweepLayout, Policy: pol, VendorID: VendorID, ClassID: ClassID})
	if err != nil {
		chip.Close()
		return nil, err
	}
	factory := []boot.Staged{}
	for _, c := range boot.Components {
		s, err := r.release(c, 1)
		if err != nil {
			chip.Close()
			return nil, err
		}
		factory = append(factory, s)
	}
	if err := r.b.Provision(ctx, factory); err != nil {
		chip.Close()
		return nil, err
	}
	f.Reset() // factory programming is not part of the story
	r.counters = [2]uint64{1, 1}
	return r, nil
}

func (r *rig) release(c boot.Component, seq uint64) (boot.Staged, error) {
	return r.signers.Release(c, seq, sweepImage(c, seq))
}

// sweepImage is the image of a version; sizes differ between neighbouring
// versions so that a swap moves real data through every sector.
func sweepImage(c boot.Component, seq uint64) []byte {
	return BuiltinImage(c, seq, SweepLayout.MaxImage()-200*int(1+(seq-1)%7))
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// armFor arms the cut if it falls in the current power cycle.
func (r *rig) armFor(cut *cutPlan) {
	if cut == nil || cut.fired {
		return
	}
	if n := cut.at - r.before; n >= 1 {
		arm(r.f, cut.mode, n, cut.seed)
	}
}

func (r *rig) violate(format string, args ...any) {
	r.res.violations = append(r.res.violations, fmt.Sprintf(format, args...))
}

func (r *rig) do(ctx context.Context, s step) error {
	switch s.kind {
	case stepBoot:
		r.powerCycle()
		res, err := r.b.Boot(ctx)
		if err != nil {
			return err
		}
		r.checkBoot(res)
		return nil
	case stepStage:
		var set []boot.Staged
		for i, seq := range s.set {
			if seq == 0 {
				continue
			}
			st, err := r.release(boot.Components[i], seq)
			if err != nil {
				return err
			}
			set = append(set, st)
		}
		err := r.b.Stage(ctx, set)
		if s.busy {
			if errors.Is(err, boot.ErrBusy) {
				return nil
			}
			if err == nil {
				return errors.New("stage during a trial was accepted")
			}
		}
		return err
	case stepAccept:
		return r.b.Accept(ctx)
	}
	return nil
}

// powerCycle resets the flash and the TPM as a power cut or a reboot
// does, and arms the cut of the new power cycle.
func (r *rig) powerCycle() {
	r.before += int(r.f.Ops())
	r.f.Reset()
	if err := r.chip.Reset(); err != nil {
		r.violate("TPM reset: %v", err)
	}
	r.armFor(r.cut)
}

// recover boots after the cut (cutting once more during recovery when
// planned), then drives the device to the end of its story: a trial is
// accepted (or, in the revert story, left to revert) and the device boots
// again, until a boot that is not a trial completes.
func (r *rig) recover(ctx context.Context, cut *cutPlan) error {
	cut.fired = true
	reset := func() error {
		r.before += int(r.f.Ops())
		r.f.Reset()
		return r.chip.Reset()
	}
	if err := reset(); err != nil {
		return err
	}
	if cut.second > 0 {
		arm(r.f, cut.mode, cut.second, cut.seed^0x5eed)
	}
	for attempt := 0; attempt < 6; attempt++ {
		res, err := r.b.Boot(ctx)
		if IsPowerCut(err) && !cut.secondFired {
			cut.secondFired = true
			if err := reset(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			r.violate("recovery boot: %v", err)
			return nil
		}
		r.checkBoot(res)
		if !res.Trial {
			return nil
		}
		if !r.sc.revert {
			err := r.b.Accept(ctx)
			if IsPowerCut(err) && !cut.secondFired {
				cut.secondFired = true
			} else if err != nil {
				r.violate("accept after recovery: %v", err)
				return nil
			}
		}
		if err := reset(); err != nil {
			return err
		}
	}
	r.violate("recovery did not reach a confirmed boot")
	return nil
}

// checkBoot checks the invariants on a completed boot.
func (r *rig) checkBoot(res *boot.Result) {
	if len(res.Images) != len(boot.Components) {
		r.violate("boot returned %d images", len(res.Images))
		return
	}
	pair := [2]uint64{res.Images[0].SequenceNumber, res.Images[1].SequenceNumber}
	allowed := false
	for _, p := range r.sc.Pairs {
		allowed = allowed || p == pair
	}
	if !allowed {
		r.violate("booted the mixed or unknown pair %v", pair)
	}
	for i, c := range boot.Components {
		n, err := (Counters{TPM: r.tp}).Counter(c)
		if err != nil {
			r.violate("read %s counter: %v", c, err)
			continue
		}
		if n < r.counters[i] {
			r.violate("%s counter went back from %d to %d", c, r.counters[i], n)
		}
		r.counters[i] = n
		if pair[i] < n {
			r.violate("%s image %d runs below its counter %d", c, pair[i], n)
		}
		if !bytes.Equal(res.Images[i].ImageDigest, sha256Of(sweepImage(c, pair[i]))) {
			r.violate("%s image %d does not hash to the released image", c, pair[i])
		}
	}
	pcr, err := r.tp.ReadPCR(boot.MeasurementPCR)
	if err != nil || !bytes.Equal(pcr, res.Events.Replay(boot.MeasurementPCR)) {
		r.violate("event log does not replay to the PCR (%v)", err)
	}
}
