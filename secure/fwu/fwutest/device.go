package fwutest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/world"
)

// Identity of the test devices: the vendor and class IDs their manifests
// name.
var (
	VendorID = bytes.Repeat([]byte{0xfa}, 16)
	ClassID  = bytes.Repeat([]byte{0x14}, 16)
)

// SmallLayout is a flash small enough for fast tests: 4-sector slots of
// 2 KiB sectors.
var SmallLayout = boot.Layout{SectorSize: 2048, WriteAlign: 16, SlotSectors: 4, StoreSectors: 64}

// Device is an in-memory device and the secure world of its last power-on.
type Device struct {
	Layout       boot.Layout
	Flash        *Flash
	Counters     *Counters
	PCR          *PCR
	Sealer       *Sealer
	StoreCounter *StoreCounter
	Signers      *Signers
	// Secure is the secure world of the last power-on (New or Reboot).
	*world.Secure
}

// New manufactures a device with layout l: device keys and the signers'
// policy sealed into a fresh secure storage, and factory images of
// sequence number 1 provisioned, then powers it on (Reboot).
func New(t testing.TB, l boot.Layout) *Device {
	t.Helper()
	d := &Device{Layout: l, Flash: NewFlash(l), Counters: &Counters{}, PCR: &PCR{}, Sealer: &Sealer{},
		StoreCounter: &StoreCounter{}, Signers: NewSigners(t)}
	dk, err := keys.NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Format(d.Flash, world.StoreRegion(l), d.Sealer, d.StoreCounter, dk, d.Signers.Policy(t), nil)
	if err != nil {
		t.Fatalf("format the secure storage: %v", err)
	}
	if d.Secure, err = world.New(d.Hardware(), d.Platform(), st); err != nil {
		t.Fatal(err)
	}
	var set []boot.Staged
	for _, c := range boot.Components {
		set = append(set, d.Signers.Release(t, c, 1, BuiltinImage(c, 1, l.MaxImage()/2)))
	}
	if err := d.Boot.Provision(context.Background(), set); err != nil {
		t.Fatalf("provision: %v", err)
	}
	if _, err := d.Reboot(context.Background()); err != nil {
		t.Fatalf("first boot: %v", err)
	}
	return d
}

// Hardware is the fake hardware as the secure world takes it.
func (d *Device) Hardware() world.Hardware {
	return world.Hardware{Flash: d.Flash, Counters: d.Counters, PCR: d.PCR, Sealer: d.Sealer, StoreCounter: d.StoreCounter}
}

// Platform is the device as its secure world knows it.
func (d *Device) Platform() world.Platform {
	return world.Platform{Layout: d.Layout, VendorID: VendorID, ClassID: ClassID}
}

// Reboot powers the device on again: the secure world is assembled anew
// (the storage unsealed and read from flash) and the bootloader runs.
func (d *Device) Reboot(ctx context.Context) (*boot.Result, error) {
	d.Flash = d.Flash.PowerCycle()
	sw, err := world.Assemble(d.Hardware(), d.Platform())
	if err != nil {
		return nil, err
	}
	d.Secure = sw
	return d.Boot.Boot(ctx)
}

// NewService makes the update service of this power-on with cfg.
func (d *Device) NewService(cfg fwu.Config) (*fwu.Service, error) {
	return d.ServiceWith(cfg)
}

// OpenStore opens the secure storage anew, as the next power-on would:
// what is persisted, not what the running world holds in memory.
func (d *Device) OpenStore() (*storage.Store, error) {
	return storage.Open(d.Flash, world.StoreRegion(d.Layout), d.Sealer, d.StoreCounter)
}

// Signers are a test device's signing keys: the firmware author (both
// images), the operator (whose co-signature the secure image needs) and
// the TA authors "acme" and "globex", each for its own TAs.
type Signers struct {
	Author, Operator *suit.SigningKey
	TAAuthors        map[string]*suit.SigningKey
}

// NewSigners generates fresh signers.
func NewSigners(t testing.TB) *Signers {
	t.Helper()
	gen := func() *suit.SigningKey {
		k, err := suit.GenerateSigningKey(suit.AlgES256)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	return &Signers{Author: gen(), Operator: gen(), TAAuthors: map[string]*suit.SigningKey{"acme": gen(), "globex": gen()}}
}

// TAPrefix is the component-ID prefix of an author's TAs.
func TAPrefix(author string) suit.ComponentID {
	return ta.Prefix(author)
}

// Policy is the trust policy of a device that trusts these signers.
func (s *Signers) Policy(t testing.TB) *keys.Policy {
	t.Helper()
	pub := func(k *suit.SigningKey) *suit.Key {
		p, err := k.Public()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := &keys.Policy{
		Anchors: []keys.Anchor{
			{Name: "author", Key: pub(s.Author), Prefixes: []suit.ComponentID{boot.Secure.ID(), boot.Normal.ID()}},
			{Name: "operator", Key: pub(s.Operator), Prefixes: []suit.ComponentID{boot.Secure.ID()}},
		},
		CoSign: []keys.CoSign{{Prefix: boot.Secure.ID(), Required: []string{"author", "operator"}}},
	}
	for _, name := range []string{"acme", "globex"} {
		p.Anchors = append(p.Anchors, keys.Anchor{Name: "ta-" + name, Key: pub(s.TAAuthors[name]),
			Prefixes: []suit.ComponentID{TAPrefix(name)}})
	}
	return p
}

// Release is a release of image for component c at sequence number seq,
// signed as the device's policy requires.
func (s *Signers) Release(t testing.TB, c boot.Component, seq uint64, image []byte) boot.Staged {
	t.Helper()
	signers := []*suit.SigningKey{s.Author}
	if c == boot.Secure {
		signers = append(signers, s.Operator)
	}
	return boot.Staged{Component: c, Envelope: Envelope(t, c, seq, image, signers...), Image: image}
}

// Envelope builds the envelope of image for component c at sequence number
// seq, fetched from a URI, signed by signers.
func Envelope(t testing.TB, c boot.Component, seq uint64, image []byte, signers ...*suit.SigningKey) []byte {
	t.Helper()
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: VendorID, ClassID: ClassID,
		Components: []author.Component{{ID: c.ID(), Payload: image, URI: fmt.Sprintf("https://fw.example/%s-%d.bin", c, seq), Invoke: true}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range signers {
		if err := env.Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	return env.Encode()
}

// BuiltinImage is a recognizable image of component c at sequence number
// seq, of size bytes.
func BuiltinImage(c boot.Component, seq uint64, size int) []byte {
	line := fmt.Appendf(nil, "teeup %s image, sequence %d\n", c, seq)
	return bytes.Repeat(line, size/len(line)+1)[:size]
}
