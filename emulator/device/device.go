// Package device is an emulated device on one machine: a directory that
// holds a file-backed NOR flash and the reference TPM simulator's state,
// so that the device survives restarts of the emulator; the supervisor
// that runs it as two processes, one per world; and the power-cut sweep.
// The secure world over that hardware is assembled by secure/world; the
// factory here provisions a new device with development keys.
//
// It trusts nothing from outside the directory; the directory itself
// stands for the hardware, so whoever can write it owns the device.
package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teeup/teeup/emulator/flash"
	emutpm "github.com/teeup/teeup/emulator/tpm"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/world"
)

// Files of a device directory.
const (
	configFile   = "device.json"
	flashFile    = "flash.bin"
	tpmDir       = "tpm"
	stateFile    = "state.json"
	trustDir     = "trust"    // copies of the public keys the device trusts (it uses the sealed ones)
	devKeysDir   = "dev-keys" // signing keys, development devices only
	authorName   = "author"
	operatorName = "operator"
)

// Config is device.json.
type Config struct {
	Layout boot.Layout `json:"layout"`
}

// State is state.json: what the emulator remembers between commands that
// is not security state (that lives in flash and the TPM). The measured-boot
// event log is not in it either: the bootloader hands it to the secure
// world, which keeps it for the power-on, as long as the PCR it replays to.
type State struct {
	Boots     uint64       `json:"boots"`
	LastBoot  *boot.Result `json:"last_boot,omitempty"`
	LastError string       `json:"last_error,omitempty"`
	Updated   time.Time    `json:"updated"`
}

// Device is an open emulated device. Close it: only one may be open per
// process, because the TPM simulator is one per process.
type Device struct {
	Dir    string
	Config Config
	Flash  *flash.Flash
	// Chip is the TPM simulator: its power and its NV state in the
	// directory. TPM sends the secure world's commands to it.
	Chip  *emutpm.TPM
	TPM   *tpm.TPM
	State State
	// Secure is the secure world of the current power-on (its
	// bootloader, secure storage and trust policy); nil from OpenHardware.
	*world.Secure
}

// InitOptions are the factory contents of a new device.
type InitOptions struct {
	Layout boot.Layout
	// Signers sign the factory images and are trusted by the device; nil
	// makes fresh development keys. Their private keys are left in
	// dir/dev-keys so that a developer can build updates for the device.
	Signers *Signers
	// Own, when set, takes the place of Signers: the user's own keys, of
	// which only the public halves are written into the device.
	Own *OwnKeys
	// Images are the factory images; nil entries get a built-in image.
	SecureImage, NormalImage []byte
	// TAMKeys are the public keys of the TAMs the device's TEEP Agent
	// answers, sealed with the rest of its trust, each also the anchor of
	// the TA personalization data its TAM signs; none: the device has no
	// Agent.
	TAMKeys []*suit.Key
}

// Init makes a new device in dir (which must not hold one) with factory
// images at sequence number 1 and returns it open.
func Init(ctx context.Context, dir string, opts InitOptions) (*Device, error) {
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return nil, fmt.Errorf("device: %s already holds a device", dir)
	}
	if opts.Layout == (boot.Layout{}) {
		opts.Layout = boot.DefaultLayout
	}
	opts.Layout = withStore(opts.Layout)
	if err := opts.Layout.Validate(); err != nil {
		return nil, err
	}
	for _, k := range opts.TAMKeys {
		if err := teepKey(k); err != nil {
			return nil, err
		}
	}
	s := opts.Signers
	if opts.Own != nil {
		s = &Signers{Author: opts.Own.Author, Operator: opts.Own.Operator}
	}
	if s == nil {
		var err error
		if s, err = NewSigners(); err != nil {
			return nil, err
		}
	}
	for _, sub := range []string{trustDir, devKeysDir, tpmDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	save, trusted := s.save, s.Policy
	if opts.Own != nil {
		save, trusted = opts.Own.savePublic, opts.Own.policy
	}
	if err := save(dir); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, configFile), Config{Layout: opts.Layout}); err != nil {
		return nil, err
	}
	policy, err := trusted()
	if err != nil {
		return nil, err
	}
	// A TAM's key is trusted twice: for its TEEP messages, and as the
	// signer of the personalization data it encrypts to the device.
	policy.TAMs = opts.TAMKeys
	for i, k := range opts.TAMKeys {
		policy.Anchors = append(policy.Anchors, keys.TAMAnchor(fmt.Sprintf("tam-%d", i+1), k))
	}
	if err := saveTAMKeys(dir, opts.TAMKeys); err != nil {
		return nil, err
	}
	d, err := OpenHardware(dir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Device, error) { d.Close(); return nil, err }
	if err := (Counters{TPM: d.TPM}).Define(); err != nil {
		return fail(err)
	}
	st, err := d.formatStore(policy)
	if err != nil {
		return fail(err)
	}
	if d.Secure, err = world.New(d.Hardware(), d.Platform(), st); err != nil {
		return fail(err)
	}
	images := map[boot.Component][]byte{boot.Secure: opts.SecureImage, boot.Normal: opts.NormalImage}
	var set []boot.Staged
	for _, c := range boot.Components {
		img := images[c]
		if img == nil {
			// Half a default slot at most: a large slot is for the
			// user's images, not for a large built-in one.
			img = BuiltinImage(c, 1, min(opts.Layout.MaxImage(), boot.DefaultLayout.MaxImage())/2)
		}
		st, err := s.Release(c, 1, img)
		if err != nil {
			return fail(err)
		}
		set = append(set, st)
	}
	if err := d.Boot.Provision(ctx, set); err != nil {
		return fail(err)
	}
	if err := publishFactoryReference(dir, policy, set); err != nil {
		return fail(err)
	}
	return d, d.Flash.Sync()
}

// Open opens the device in dir and assembles its secure world. What the
// device trusts comes from its sealed secure storage, not from the
// copies in trust/.
func Open(dir string) (*Device, error) {
	d, err := OpenHardware(dir)
	if err != nil {
		return nil, err
	}
	if d.Secure, err = world.Assemble(d.Hardware(), d.Platform()); err != nil {
		d.Close()
		return nil, fmt.Errorf("device: %w", err)
	}
	return d, nil
}

// OpenHardware opens the device's flash and TPM, as the secure world's
// process does before it hands them to secure/world.
func OpenHardware(dir string) (*Device, error) {
	d := &Device{Dir: dir}
	if err := readJSON(filepath.Join(dir, configFile), &d.Config); err != nil {
		return nil, fmt.Errorf("device: %s: %w", dir, err)
	}
	if err := readJSON(filepath.Join(dir, stateFile), &d.State); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var err error
	if d.Flash, err = flash.OpenDirect(filepath.Join(dir, flashFile), FlashConfig(d.Config.Layout)); err != nil {
		return nil, err
	}
	if d.Chip, err = emutpm.Open(filepath.Join(dir, tpmDir)); err != nil {
		d.Flash.Close()
		return nil, err
	}
	d.TPM = tpm.New(d.Chip)
	return d, nil
}

// Hardware is the emulated flash and TPM as the secure world takes them.
func (d *Device) Hardware() world.Hardware {
	return world.Hardware{Flash: d.Flash, Counters: Counters{TPM: d.TPM}, PCR: PCR{TPM: d.TPM},
		Sealer: d.TPM, StoreCounter: StoreCounter{TPM: d.TPM}, Attester: d.TPM}
}

// Platform is the emulated device as its secure world knows it.
func (d *Device) Platform() world.Platform {
	return world.Platform{Layout: d.Config.Layout, VendorID: VendorID, ClassID: ClassID, HWVersion: HWVersion}
}

// Close saves the emulator state and closes the flash and the TPM.
func (d *Device) Close() error {
	d.State.Updated = time.Now().UTC()
	errs := []error{writeJSON(filepath.Join(d.Dir, stateFile), d.State)}
	if d.Flash != nil {
		errs = append(errs, d.Flash.Close())
	}
	if d.Chip != nil {
		errs = append(errs, d.Chip.Close())
	}
	return errors.Join(errs...)
}

// Reboot power-cycles the device, assembles its secure world again (the
// secure storage opened anew, as at any power-on) and runs the
// bootloader. With cut set, the power fails again at that flash operation
// of the boot; the flash is left as the cut left it and ErrPowerCut-wrapped
// error is returned.
func (d *Device) Reboot(ctx context.Context, cut *Cut) (*boot.Result, error) {
	d.Flash.Reset()
	if err := d.Chip.Reset(); err != nil {
		return nil, err
	}
	sw, err := world.Assemble(d.Hardware(), d.Platform())
	if err != nil {
		return nil, fmt.Errorf("device: %w", err)
	}
	d.Secure = sw
	if cut != nil {
		arm(d.Flash, cut.Mode, cut.At, cut.Seed)
	}
	res, err := d.Boot.Boot(ctx)
	d.RecordBoot(res, err)
	return res, err
}

// RecordBoot keeps what a boot did in state.json, for an offline status.
func (d *Device) RecordBoot(res *boot.Result, err error) {
	d.State.Boots++
	if err != nil {
		d.State.LastError = err.Error()
		d.State.LastBoot = nil
		return
	}
	d.State.LastBoot, d.State.LastError = res, ""
	if res.Refused != nil {
		d.State.LastError = res.Refused.Error()
	}
}

// Cut is a power cut at the At-th flash operation of a boot.
type Cut struct {
	At   int
	Mode CutMode
	Seed uint64
}

// Stage stages envelopes whose payloads they carry (one integrated payload
// each) or that images supplies by component.
func (d *Device) Stage(ctx context.Context, envelopes [][]byte, images map[boot.Component][]byte) error {
	var set []boot.Staged
	for _, raw := range envelopes {
		env, err := suit.ParseEnvelope(raw)
		if err != nil {
			return err
		}
		m, err := env.ManifestUnverified() // only to route it; the bootloader verifies
		if err != nil {
			return err
		}
		if len(m.Components) != 1 {
			return fmt.Errorf("device: an envelope to stage must name one component, not %d", len(m.Components))
		}
		c, ok := boot.ComponentByID(m.Components[0])
		if !ok {
			return fmt.Errorf("device: no component %s on this device (it has ['secure'] and ['normal'])", m.Components[0])
		}
		img := images[c]
		if img == nil {
			if len(env.Integrated) != 1 {
				return fmt.Errorf("device: envelope for %s carries %d payloads; give the image", c, len(env.Integrated))
			}
			for _, p := range env.Integrated {
				img = p
			}
		}
		// The slot keeps the envelope without its payload.
		stored := *env
		stored.Integrated = nil
		set = append(set, boot.Staged{Component: c, Envelope: stored.Encode(), Image: img})
	}
	err := d.Boot.Stage(ctx, set)
	if serr := d.Flash.Sync(); err == nil {
		err = serr
	}
	return err
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// save writes the signers' public keys to trust/ and private keys to dev-keys/.
func (s *Signers) save(dir string) error {
	for name, key := range s.named() {
		priv, err := key.MarshalPEM()
		if err != nil {
			return err
		}
		pub, err := key.MarshalPublicPEM()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, devKeysDir, name+".pem"), priv, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, trustDir, name+".pub.pem"), pub, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LoadSigners reads a development device's signing keys.
func LoadSigners(dir string) (*Signers, error) {
	s := Signers{TAAuthors: map[string]*suit.SigningKey{}}
	files, err := filepath.Glob(filepath.Join(dir, devKeysDir, "*.pem"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		k, err := suit.ParseSigningKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		switch name := strings.TrimSuffix(filepath.Base(f), ".pem"); {
		case name == authorName:
			s.Author = k
		case name == operatorName:
			s.Operator = k
		case strings.HasPrefix(name, taAuthorPrefix):
			s.TAAuthors[strings.TrimPrefix(name, taAuthorPrefix)] = k
		}
	}
	if s.Author == nil || s.Operator == nil {
		return nil, fmt.Errorf("device: %s holds no development author and operator keys", filepath.Join(dir, devKeysDir))
	}
	return &s, nil
}
