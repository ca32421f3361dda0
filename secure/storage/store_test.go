package storage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/storage/storagetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

// The store sits after one unrelated sector, so that offsets are tested.
var region = storage.Region{Off: 4096, BankSectors: 2, SectorSize: 4096, WriteAlign: 16}

type fixture struct {
	flash   *storagetest.Flash
	tpm     *tpmtest.Sim
	counter tpmCounter
	device  *keys.Device
	policy  *keys.Policy
}

// tpmCounter is the store's counter in the TPM, as the device has it.
type tpmCounter struct{ tpm *tpm.TPM }

const counterIndex = 0x01500020

func (c tpmCounter) Value() (uint64, error)   { return c.tpm.Counter(counterIndex) }
func (c tpmCounter) AdvanceTo(v uint64) error { return c.tpm.AdvanceCounterTo(counterIndex, v) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := storagetest.NewFlash(t, 5*4096, 4096, 16)
	tp := tpmtest.Open(t)
	if err := tp.DefineCounter(counterIndex); err != nil {
		t.Fatal(err)
	}
	dk, err := keys.NewDevice(rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	author, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := author.Public()
	if err != nil {
		t.Fatal(err)
	}
	tam, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	tamPub, err := tam.Public()
	if err != nil {
		t.Fatal(err)
	}
	acme := suit.ComponentID{[]byte("TA"), []byte("acme")}
	policy := &keys.Policy{Anchors: []keys.Anchor{{Name: "ta-acme", Key: pub, Prefixes: []suit.ComponentID{acme}}, keys.TAMAnchor("tam", pub)},
		CoSign: []keys.CoSign{{Prefix: acme, Required: []string{"ta-acme"}}}, TAMs: []*suit.Key{tamPub}}
	return &fixture{flash: f, tpm: tp, counter: tpmCounter{tp.TPM}, device: dk, policy: policy}
}

func (fx *fixture) format(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Format(fx.flash, region, fx.tpm, fx.counter, fx.device, fx.policy, rand.NewChaCha8([32]byte{2}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (fx *fixture) open(t *testing.T) *storage.Store {
	t.Helper()
	s, err := storage.Open(fx.flash, region, fx.tpm, fx.counter)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func taID(author, name string) suit.ComponentID {
	return suit.ComponentID{[]byte("TA"), []byte(author), []byte(name)}
}

func installed(name string, seq uint64, image, personalization string) storage.TA {
	return storage.TA{ID: taID("acme", name), SequenceNumber: seq, Envelope: []byte("envelope of " + name),
		Image: []byte(image), Personalization: []byte(personalization)}
}

// describe is a TA list in a comparable form.
func describe(tas []storage.TA) string {
	var b bytes.Buffer
	for _, ta := range tas {
		fmt.Fprintf(&b, "%s@%d unlinked=%v image=%q pers=%q; ", ta.ID, ta.SequenceNumber, ta.Unlinked, ta.Image, ta.Personalization)
	}
	return b.String()
}

func TestStoreLifecycle(t *testing.T) {
	fx := newFixture(t)
	s := fx.format(t)
	got, err := fx.open(t).DeviceKeys()
	if err != nil || !got.Agreement.Equal(fx.device.Agreement) || !got.Attestation.Equal(fx.device.Attestation) || !got.Agent.Equal(fx.device.Agent) {
		t.Fatalf("device keys did not survive: %v", err)
	}
	checkPolicy := func(when string) {
		t.Helper()
		p, err := fx.open(t).Policy()
		if err != nil || len(p.Anchors) != 2 || p.Anchors[0].Name != "ta-acme" || p.Anchors[0].Key.ID != fx.policy.Anchors[0].Key.ID ||
			!p.Anchors[0].Prefixes[0].Equal(fx.policy.Anchors[0].Prefixes[0]) || p.Anchors[0].Personalization || !p.Anchors[1].Personalization ||
			len(p.CoSign) != 1 || p.CoSign[0].Required[0] != "ta-acme" || len(p.TAMs) != 1 || p.TAMs[0].ID != fx.policy.TAMs[0].ID {
			t.Fatalf("%s: the sealed policy reads back as %+v, %v", when, p, err)
		}
	}
	checkPolicy("after formatting")
	defer checkPolicy("after the changes")
	steps := []struct {
		name    string
		changes []storage.TA
		wantErr error
		want    string
	}{
		{"install two", []storage.TA{installed("a", 1, "A1", "secret-a"), installed("b", 4, "B4", "")}, nil,
			`['TA','acme','a']@1 unlinked=false image="A1" pers="secret-a"; ['TA','acme','b']@4 unlinked=false image="B4" pers=""; `},
		{"update one", []storage.TA{installed("a", 2, "A2", "secret-a2")}, nil,
			`['TA','acme','a']@2 unlinked=false image="A2" pers="secret-a2"; ['TA','acme','b']@4 unlinked=false image="B4" pers=""; `},
		{"roll back one", []storage.TA{installed("b", 3, "B3", "")}, storage.ErrRollback, ""},
		{"roll back within a set", []storage.TA{installed("a", 5, "A5", ""), installed("b", 1, "B1", "")}, storage.ErrRollback, ""},
		{"not a TA", []storage.TA{{ID: suit.ComponentID{[]byte("normal")}, SequenceNumber: 9}}, storage.ErrNotTA, ""},
		{"unlink", []storage.TA{{ID: taID("acme", "b"), SequenceNumber: 5, Unlinked: true}}, nil,
			`['TA','acme','a']@2 unlinked=false image="A2" pers="secret-a2"; ['TA','acme','b']@5 unlinked=true image="" pers=""; `},
		{"reinstall below the unlink", []storage.TA{installed("b", 4, "B4", "")}, storage.ErrRollback, ""},
		{"too big", []storage.TA{installed("c", 1, string(make([]byte, 2*4096)), "")}, storage.ErrFull, ""},
	}
	want := ""
	for _, st := range steps {
		gen := s.Generation()
		err := s.Apply(st.changes)
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Apply = %v, want %v", st.name, err, st.wantErr)
		}
		if err != nil {
			if s.Generation() != gen {
				t.Fatalf("%s: a refused change moved the generation", st.name)
			}
		} else {
			want = st.want
		}
		if got := describe(s.TAs()); got != want {
			t.Fatalf("%s: in memory\n got %s\nwant %s", st.name, got, want)
		}
		if got := describe(fx.open(t).TAs()); got != want {
			t.Fatalf("%s: reopened\n got %s\nwant %s", st.name, got, want)
		}
	}
	if ta, ok := s.Lookup(taID("acme", "a")); !ok || string(ta.Personalization) != "secret-a2" {
		t.Fatalf("Lookup = %+v, %v", ta, ok)
	}
	if _, ok := s.Lookup(taID("acme", "zzz")); ok {
		t.Fatal("Lookup found a TA never installed")
	}
}

// TestStoreHoldsNoPlaintext reads the raw flash: neither a private key
// nor personalization data nor a TA image is there in the clear.
func TestStoreHoldsNoPlaintext(t *testing.T) {
	fx := newFixture(t)
	s := fx.format(t)
	if err := s.Apply([]storage.TA{installed("a", 1, "TA-IMAGE-PLAINTEXT", "PERSONALIZATION-PLAINTEXT")}); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 5*4096)
	if err := fx.flash.Read(0, raw); err != nil {
		t.Fatal(err)
	}
	att, _ := fx.device.Attestation.Bytes()
	for name, secret := range map[string][]byte{
		"agreement key": fx.device.Agreement.Bytes(), "attestation key": att,
		"personalization": []byte("PERSONALIZATION-PLAINTEXT"), "TA image": []byte("TA-IMAGE-PLAINTEXT"),
	} {
		if bytes.Contains(raw, secret) {
			t.Errorf("the flash holds the %s in the clear", name)
		}
	}
}

// TestStoreRefusesForgery: a record rewritten with a valid checksum but
// altered content, or moved to another device, is refused, not skipped.
func TestStoreRefusesForgery(t *testing.T) {
	fx := newFixture(t)
	s := fx.format(t)
	if err := s.Apply([]storage.TA{installed("a", 1, "A1", "p")}); err != nil {
		t.Fatal(err)
	}
	// Generation 2 is in bank 1. Flip a ciphertext byte and fix the checksum.
	bank1 := region.Off + int64(region.BankSectors*region.SectorSize)
	raw := make([]byte, region.SectorSize)
	if err := fx.flash.Read(bank1, raw); err != nil {
		t.Fatal(err)
	}
	sealedLen := int(binary.BigEndian.Uint32(raw[16:]))
	cipherLen := int(binary.BigEndian.Uint32(raw[20:]))
	body := 24 + sealedLen + 12 + cipherLen
	forged := bytes.Clone(raw[:body+32])
	forged[body-3] ^= 1
	sum := sha256.Sum256(forged[:body])
	copy(forged[body:], sum[:])
	fx.flash.EraseSector(bank1)
	for len(forged)%16 != 0 {
		forged = append(forged, 0xff)
	}
	if err := fx.flash.Program(bank1, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Open(fx.flash, region, fx.tpm, fx.counter); !errors.Is(err, storage.ErrTampered) {
		t.Fatalf("forged record: Open = %v, want ErrTampered", err)
	}

	// An intact store under another TPM does not open either.
	fx.tpm.Close()
	fx2 := newFixture(t)
	fx2.format(t)
	fx2.tpm.Close()
	other := tpmtest.Open(t)
	if _, err := storage.Open(fx2.flash, region, other, tpmCounter{other.TPM}); !errors.Is(err, storage.ErrTampered) {
		t.Fatalf("another device's TPM: Open = %v, want ErrTampered", err)
	}
}

func TestOpenEmptyRegion(t *testing.T) {
	fx := newFixture(t)
	if _, err := storage.Open(fx.flash, region, fx.tpm, fx.counter); !errors.Is(err, storage.ErrNoStore) {
		t.Fatalf("Open of an erased region = %v, want ErrNoStore", err)
	}
}

// TestApplyPowerCuts cuts the power at every flash operation of an Apply,
// in each cut mode: the store then opens at the old state or the new one.
func TestApplyPowerCuts(t *testing.T) {
	// A record of more than one sector: the Apply erases two.
	change := []storage.TA{installed("a", 2, strings.Repeat("A2", 2500), "p2"), {ID: taID("acme", "b"), SequenceNumber: 2, Unlinked: true}}
	// before is a device whose store holds two TAs, on a TPM of its own:
	// each cut needs one whose counter never saw the change.
	before := func(t *testing.T) (*fixture, *storage.Store) {
		fx := newFixture(t)
		s := fx.format(t)
		if err := s.Apply([]storage.TA{installed("a", 1, "A1", "p1"), installed("b", 1, "B1", "")}); err != nil {
			t.Fatal(err)
		}
		return fx, s
	}

	// Count the operations of the change on a scratch run.
	fx, s := before(t)
	old := describe(s.TAs())
	fx.flash.Reset()
	if err := s.Apply(change); err != nil {
		t.Fatal(err)
	}
	after, ops := describe(s.TAs()), fx.flash.Ops()
	if ops < 2 {
		t.Fatalf("an Apply of %d flash operations", ops)
	}
	fx.tpm.Close()
	cuts, news := 0, 0
	for op := uint64(1); op <= ops; op++ {
		for mode := range 3 {
			fx, s := before(t)
			fx.flash.Reset()
			switch mode {
			case 0:
				fx.flash.CutBefore(op)
			case 1:
				fx.flash.CutAfter(op)
			case 2:
				fx.flash.CutTorn(op, op*7+1)
			}
			if err := s.Apply(change); !errors.Is(err, storagetest.ErrPowerCut) {
				t.Fatalf("op %d mode %d: Apply = %v, want a power cut", op, mode, err)
			}
			cuts++
			fx.flash.Reset()
			got := describe(fx.open(t).TAs())
			switch got {
			case after:
				news++
			case old:
			default:
				t.Fatalf("op %d mode %d: the store opened at\n%s\nneither\n%s\nnor\n%s", op, mode, got, old, after)
			}
			// Opened at either, the store is in step with its counter:
			// it opens again, and takes the next change.
			if err := fx.open(t).Apply([]storage.TA{installed("c", 1, "C1", "")}); err != nil {
				t.Fatalf("op %d mode %d: the next change: %v", op, mode, err)
			}
			fx.open(t)
			fx.tpm.Close()
		}
	}
	t.Logf("%d flash operations per Apply, %d cuts: %d left the new state, %d the old, 0 a mix", ops, cuts, news, cuts-news)
	if news == 0 || news == cuts {
		t.Fatalf("%d of %d cuts left the new state: the sweep did not cover both outcomes", news, cuts)
	}
}

// TestStoreRefusesRestoredCopy is the rollback attack on the store: a
// copy of both banks taken while a TA was at sequence number 1 (with its
// personalization), written back after the TA moved on and then was
// unlinked. The store refuses to open from it, though every record in it
// is authentic; the copy of the current banks still opens.
func TestStoreRefusesRestoredCopy(t *testing.T) {
	fx := newFixture(t)
	s := fx.format(t)
	if err := s.Apply([]storage.TA{installed("a", 1, "A1", "secret-1")}); err != nil {
		t.Fatal(err)
	}
	earlier := make([]byte, 5*4096)
	fx.flash.Read(0, earlier)
	for _, change := range [][]storage.TA{
		{installed("a", 2, "A2", "secret-2")},
		{{ID: taID("acme", "a"), SequenceNumber: 3, Unlinked: true}},
	} {
		if err := s.Apply(change); err != nil {
			t.Fatal(err)
		}
	}
	current := make([]byte, 5*4096)
	fx.flash.Read(0, current)

	restore(t, fx.flash, earlier)
	if _, err := storage.Open(fx.flash, region, fx.tpm, fx.counter); !errors.Is(err, storage.ErrStale) || !errors.Is(err, storage.ErrTampered) {
		t.Fatalf("Open of the restored copy = %v, want ErrStale", err)
	}
	restore(t, fx.flash, current)
	ta, ok := fx.open(t).Lookup(taID("acme", "a"))
	if !ok || !ta.Unlinked || ta.SequenceNumber != 3 {
		t.Fatalf("the current banks open at %+v", ta)
	}
}

func restore(t *testing.T, f *storagetest.Flash, snapshot []byte) {
	t.Helper()
	f.Reset()
	for off := int64(0); off < int64(len(snapshot)); off += 4096 {
		if err := f.EraseSector(off); err != nil {
			t.Fatal(err)
		}
		if err := f.Program(off, snapshot[off:off+4096]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFormatRefusesPolicyWithoutPublicKeys(t *testing.T) {
	fx := newFixture(t)
	mac, err := suit.NewMACKey(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	bad := &keys.Policy{Anchors: []keys.Anchor{{Name: "mac", Key: mac}}}
	if _, err := storage.Format(fx.flash, region, fx.tpm, fx.counter, fx.device, bad, nil); !errors.Is(err, storage.ErrPolicy) {
		t.Fatalf("Format with a MAC anchor = %v, want ErrPolicy", err)
	}
}
