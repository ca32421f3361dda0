package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
)

func runDevice(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("device: no subcommand")
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"init": deviceInit, "stage": deviceStage, "reboot": deviceReboot,
		"accept": deviceAccept, "reject": deviceReject, "status": deviceStatus, "sweep": deviceSweep,
		"run": deviceRun, "update": deviceUpdate, "kill": deviceKill,
		"secure-world": deviceSecureWorld, "normal-world": deviceNormalWorld,
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageError("device: unknown subcommand %q", args[0])
	}
	return f(args[1:], stdout, stderr)
}

func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", "", "device directory")
}

func deviceInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device init", flag.ContinueOnError)
	dir := dirFlag(fs)
	secureImage := fs.String("secure-image", "", "factory secure image (default: a built-in one)")
	normalImage := fs.String("normal-image", "", "factory normal image (default: a built-in one)")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *dir == "" {
		return usageError("device init: need --dir")
	}
	opts := device.InitOptions{}
	for _, img := range []struct {
		path string
		dst  *[]byte
	}{{*secureImage, &opts.SecureImage}, {*normalImage, &opts.NormalImage}} {
		if img.path == "" {
			continue
		}
		b, err := os.ReadFile(img.path)
		if err != nil {
			return err
		}
		*img.dst = b
	}
	d, err := device.Init(context.Background(), *dir, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "initialized a development device in %s: factory images at sequence number 1\n", *dir)
	fmt.Fprintf(stdout, "trusted keys in %s/trust (TA authors: %s), development signing keys in %s/dev-keys\n",
		*dir, strings.Join(device.DevTAAuthors, ", "), *dir)
	fmt.Fprintf(stdout, "the device's own public keys in %s/identity; their private halves are sealed in its secure storage\n", *dir)
	return d.Close()
}

func openDevice(dir string) (*device.Device, error) {
	if dir == "" {
		return nil, usageError("need --dir")
	}
	return device.Open(dir)
}

func deviceStage(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device stage", flag.ContinueOnError)
	dir := dirFlag(fs)
	var images listFlag
	fs.Var(&images, "image", "COMPONENT=FILE: the image of an envelope that does not carry it")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError("device stage: need --dir and at least one envelope")
	}
	imgs := map[boot.Component][]byte{}
	for _, spec := range images {
		name, file, ok := strings.Cut(spec, "=")
		var c boot.Component
		if !ok || c.UnmarshalText([]byte(name)) != nil {
			return usageError("device stage: --image takes secure=FILE or normal=FILE")
		}
		if imgs[c], err = os.ReadFile(file); err != nil {
			return err
		}
	}
	var envs [][]byte
	for _, p := range pos {
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		envs = append(envs, decodeMaybeHex(raw))
	}
	d, err := openDevice(*dir)
	if err != nil {
		return err
	}
	err = d.Stage(context.Background(), envs, imgs)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	fmt.Fprintf(stdout, "staged %d image(s) as one install set; it is applied at the next reboot\n", len(envs))
	return nil
}

func deviceReboot(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device reboot", flag.ContinueOnError)
	dir := dirFlag(fs)
	cutAt := fs.Int("cut-at", 0, "cut the power at this flash operation of the boot (1-based)")
	cutMode := fs.String("cut-mode", "after", "before, after or torn")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageError("device reboot: no arguments")
	}
	var cut *device.Cut
	if *cutAt > 0 {
		mode := device.CutMode(*cutMode)
		if mode != device.CutBefore && mode != device.CutAfter && mode != device.CutTorn {
			return usageError("device reboot: --cut-mode is before, after or torn")
		}
		cut = &device.Cut{At: *cutAt, Mode: mode, Seed: uint64(*cutAt)}
	}
	d, err := openDevice(*dir)
	if err != nil {
		return err
	}
	res, err := d.Reboot(context.Background(), cut)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if cut != nil && device.IsPowerCut(err) {
		fmt.Fprintf(stdout, "power cut %s flash operation %d during boot; the next reboot recovers\n", cut.Mode, cut.At)
		return nil
	}
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	printBoot(stdout, res)
	return nil
}

func printBoot(w io.Writer, res *boot.Result) {
	mode := "confirmed"
	if res.Trial {
		mode = "TRIAL (accept with teeup device accept, or the next reboot reverts)"
	}
	if res.Outcome != boot.OutcomeNone {
		fmt.Fprintf(w, "install set: %s\n", res.Outcome)
	}
	if res.Refused != nil {
		fmt.Fprintf(w, "refused: %v\n", res.Refused)
	}
	for _, img := range res.Images {
		fmt.Fprintf(w, "booted %-6s sequence %d, image sha256:%x (%d bytes)\n", img.Component, img.SequenceNumber, img.ImageDigest[:8], img.Size)
	}
	fmt.Fprintf(w, "mode: %s; %d measurements in PCR %d\n", mode, len(res.Events), boot.MeasurementPCR)
}

func deviceAccept(args []string, stdout, stderr io.Writer) error {
	return deviceDecide(args, stdout, stderr, "accept")
}

func deviceReject(args []string, stdout, stderr io.Writer) error {
	return deviceDecide(args, stdout, stderr, "reject")
}

func deviceDecide(args []string, stdout, stderr io.Writer, what string) error {
	fs := flag.NewFlagSet("device "+what, flag.ContinueOnError)
	dir := dirFlag(fs)
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageError("device %s: no arguments", what)
	}
	d, err := openDevice(*dir)
	if err != nil {
		return err
	}
	if what == "accept" {
		err = d.Boot.Accept(context.Background())
	} else {
		err = d.Boot.Reject(context.Background())
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if what == "accept" {
		fmt.Fprintln(stdout, "accepted: the trial images are confirmed and the counters advanced")
	} else {
		fmt.Fprintln(stdout, "rejected: the old images are back")
	}
	return nil
}

// statusDoc is what device status prints: the secure world's status, as
// it answers over ipc when the device runs and as it reads a copy of the
// device when it is off, and the emulator's count of boots.
type statusDoc struct {
	Running     bool           `json:"running"`
	Components  []componentDoc `json:"components"`
	State       string         `json:"state"`
	Set         []string       `json:"set,omitempty"`
	TrialBoots  uint64         `json:"trial_boots"`
	Generation  uint64         `json:"generation"`
	LastOutcome string         `json:"last_outcome"`
	Boots       uint64         `json:"boots"`
	LastError   string         `json:"last_error,omitempty"`
	TAs         []taDoc        `json:"tas,omitempty"`
}

type componentDoc struct {
	Component string  `json:"component"`
	Counter   uint64  `json:"counter"`
	Primary   slotDoc `json:"primary"`
	Secondary slotDoc `json:"secondary"`
}

type slotDoc struct {
	Image *imageDoc `json:"image,omitempty"`
	Error string    `json:"error,omitempty"`
}

type imageDoc struct {
	Component      string `json:"component"`
	SequenceNumber uint64 `json:"sequence_number"`
	ManifestDigest []byte `json:"manifest_digest"`
	ImageDigest    []byte `json:"image_digest"`
	Size           uint64 `json:"size"`
}

// taDoc is a TA as an operator sees it: never its personalization data.
type taDoc struct {
	ID              string `json:"id"`
	SequenceNumber  uint64 `json:"sequence_number"`
	Unlinked        bool   `json:"unlinked,omitempty"`
	Size            uint64 `json:"size,omitempty"`
	SHA256          string `json:"sha256,omitempty"`
	Personalization bool   `json:"personalized,omitempty"`
}

func newStatusDoc(st *ipc.DeviceStatusResult, emu device.State, running bool) statusDoc {
	doc := statusDoc{Running: running, State: st.State, Set: st.Set, TrialBoots: st.TrialBoots, Generation: st.Generation,
		LastOutcome: st.LastOutcome, Boots: emu.Boots, LastError: emu.LastError}
	slot := func(c string, s ipc.SlotStatus) slotDoc {
		if !s.Verified() {
			return slotDoc{Error: s.Error}
		}
		return slotDoc{Image: &imageDoc{Component: c, SequenceNumber: s.SequenceNumber, ManifestDigest: s.ManifestDigest, ImageDigest: s.ImageDigest, Size: s.Size}}
	}
	for _, c := range st.Components {
		doc.Components = append(doc.Components, componentDoc{Component: c.Component, Counter: c.Counter, Primary: slot(c.Component, c.Primary), Secondary: slot(c.Component, c.Secondary)})
	}
	for _, ta := range st.TAs {
		doc.TAs = append(doc.TAs, taDoc{ID: suit.ComponentID(ta.ID).String(), SequenceNumber: ta.SequenceNumber,
			Unlinked: ta.Flags&ipc.TAUnlinked != 0, Size: ta.Size, SHA256: hex.EncodeToString(ta.SHA256),
			Personalization: ta.Flags&ipc.TAPersonalized != 0})
	}
	return doc
}

func deviceStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device status", flag.ContinueOnError)
	dir := dirFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *dir == "" {
		return usageError("device status: need --dir")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A running device is asked, through its normal world; a device that
	// is off is read from a copy: either way nothing in dir changes.
	st, err := normalworld.QueryDeviceStatus(ctx, filepath.Join(*dir, controlSocket))
	running := err == nil
	if errors.Is(err, control.ErrNoListener) {
		if device.Running(*dir) {
			return fmt.Errorf("device status: the device in %s runs but its normal world does not answer (booting, or halted)", *dir)
		}
		st, err = device.OfflineStatus(ctx, *dir)
	}
	if err != nil {
		return fmt.Errorf("device status: %w", err)
	}
	emu, err := device.LoadState(*dir)
	if err != nil {
		return err
	}
	doc := newStatusDoc(st, emu, running)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	power := "off"
	if running {
		power = "running"
	}
	fmt.Fprintf(stdout, "device: %s\n", power)
	fmt.Fprintf(stdout, "state: %s (trial boots %d, last outcome %s), boots: %d\n", doc.State, doc.TrialBoots, doc.LastOutcome, doc.Boots)
	if doc.LastError != "" {
		fmt.Fprintf(stdout, "last error: %s\n", doc.LastError)
	}
	for _, c := range doc.Components {
		fmt.Fprintf(stdout, "%s: counter %d\n", c.Component, c.Counter)
		for _, s := range []struct {
			name string
			slot slotDoc
		}{{"primary", c.Primary}, {"secondary", c.Secondary}} {
			if img := s.slot.Image; img != nil {
				fmt.Fprintf(stdout, "  %-9s sequence %d, sha256:%x, %d bytes, verified\n", s.name, img.SequenceNumber, img.ImageDigest[:min(8, len(img.ImageDigest))], img.Size)
			} else {
				fmt.Fprintf(stdout, "  %-9s %s\n", s.name, s.slot.Error)
			}
		}
	}
	for _, ta := range doc.TAs {
		switch {
		case ta.Unlinked:
			fmt.Fprintf(stdout, "TA %s: unlinked at sequence %d\n", ta.ID, ta.SequenceNumber)
		default:
			fmt.Fprintf(stdout, "TA %s: sequence %d, sha256:%s, %d bytes, personalized %v\n", ta.ID, ta.SequenceNumber, ta.SHA256[:min(16, len(ta.SHA256))], ta.Size, ta.Personalization)
		}
	}
	return nil
}

func deviceSweep(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device sweep", flag.ContinueOnError)
	scenario := fs.String("scenario", "all", "normal, secure, atomic, revert, double, jump or all")
	stride := fs.Int("stride", 1, "cut every n-th flash operation only")
	second := fs.Int("second-cut-every", 4, "cut again during recovery in every n-th run (0: never)")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageError("device sweep: no arguments")
	}
	var scs []device.Scenario
	if *scenario == "all" {
		scs = device.Scenarios
	} else if sc, ok := device.ScenarioByName(*scenario); ok {
		scs = []device.Scenario{sc}
	} else {
		return usageError("device sweep: unknown scenario %q", *scenario)
	}
	violations := 0
	for _, sc := range scs {
		for _, mode := range device.CutModes {
			res, err := device.Sweep(context.Background(), sc, mode, device.SweepOptions{Stride: *stride, SecondCutEvery: *second})
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, res)
			for _, f := range res.Failures {
				fmt.Fprintf(stdout, "  violation: %s\n", f)
			}
			violations += res.Violations
		}
	}
	if violations > 0 {
		return errors.New("sweep found invariant violations")
	}
	return nil
}
