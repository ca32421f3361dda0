package device

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/world"
)

// TestTrustComesFromSealedStorage: rewriting the public-key files in
// trust/ changes nothing the device trusts; its policy is sealed in its
// secure storage.
func TestTrustComesFromSealedStorage(t *testing.T) {
	dir := t.TempDir()
	d, err := Init(context.Background(), dir, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := d.Policy.Anchors[0].Key.ID
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	attacker, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := attacker.MarshalPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{authorName, operatorName, "ta-acme"} {
		if err := os.WriteFile(filepath.Join(dir, trustDir, name+".pub.pem"), pem, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pub, _ := attacker.Public()
	for _, a := range d.Policy.Anchors {
		if a.Key.ID == pub.ID {
			t.Fatalf("anchor %s is the key written into trust/", a.Name)
		}
	}
	if d.Policy.Anchors[0].Key.ID != want || len(d.Policy.Anchors) != 2+len(DevTAAuthors) {
		t.Fatalf("the policy changed: %+v", d.Policy.Anchors)
	}
}

// TestRestoredFlashStoreRefused is the rollback attack on a powered-off
// device: the secure storage's region of flash.bin is copied, a TA is
// installed (a change to the store), and the copy is written back into
// the file. The device no longer opens: its store is older than the TPM
// counter.
func TestRestoredFlashStoreRefused(t *testing.T) {
	dir := t.TempDir()
	d, err := Init(context.Background(), dir, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	region := world.StoreRegion(d.Config.Layout)
	size := 2 * int64(region.BankSectors*region.SectorSize)
	readRegion := func() []byte {
		f, err := os.Open(filepath.Join(dir, flashFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, size)
		if _, err := f.ReadAt(b, region.Off); err != nil {
			t.Fatal(err)
		}
		return b
	}
	d.Flash.Sync()
	earlier := readRegion()
	st, err := d.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	ta := storage.TA{ID: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, SequenceNumber: 1,
		Envelope: []byte("envelope"), Image: []byte("hello TA")}
	if err := st.Apply([]storage.TA{ta}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(readRegion(), earlier) {
		t.Fatal("the change left the store's region as it was")
	}

	f, err := os.OpenFile(filepath.Join(dir, flashFile), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(earlier, region.Off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if d, err := Open(dir); !errors.Is(err, storage.ErrStale) {
		if err == nil {
			d.Close()
		}
		t.Fatalf("Open of the device with its store written back = %v, want ErrStale", err)
	}
}

// TestInitTAMKeys: the TAM keys given to Init are sealed in the device's
// trust, its Agent key is sealed with its other keys and published in
// identity/ and in its endorsement; a key TEEP cannot use is refused, and
// a device given none trusts no TAM.
func TestInitTAMKeys(t *testing.T) {
	tamKey, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	tam, err := tamKey.Public()
	if err != nil {
		t.Fatal(err)
	}
	p384, err := suit.GenerateSigningKey(suit.AlgES384)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := p384.Public()
	if err != nil {
		t.Fatal(err)
	}
	refused := t.TempDir()
	if _, err := Init(context.Background(), refused, InitOptions{TAMKeys: []*suit.Key{wrong}}); !errors.Is(err, ErrTAMKey) {
		t.Fatalf("a P-384 TAM key: %v, want ErrTAMKey", err)
	}
	if left, _ := os.ReadDir(refused); len(left) != 0 {
		t.Fatalf("a refused init left %d files", len(left))
	}

	dir := t.TempDir()
	d, err := Init(context.Background(), dir, InitOptions{TAMKeys: []*suit.Key{tam}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.Policy.TAMs) != 1 || d.Policy.TAMs[0].ID != tam.ID {
		t.Fatalf("sealed TAM keys %+v", d.Policy.TAMs)
	}
	if last := d.Policy.Anchors[len(d.Policy.Anchors)-1]; last.Key.ID != tam.ID || !last.Personalization {
		t.Fatalf("the TAM key is not the anchor of personalization data: %+v", last)
	}
	dk, err := d.Store.DeviceKeys()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := dk.AgentPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	published, err := os.ReadFile(AgentKeyFile(dir))
	if err != nil || !bytes.Equal(published, sealed) {
		t.Fatalf("identity/agent.pub.pem is not the sealed Agent key's: %v", err)
	}
	raw, err := os.ReadFile(EndorsementFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	e, err := comid.DecodeEndorsement(raw)
	if err != nil || e.AgentKey != string(sealed) {
		t.Fatalf("the endorsement's agent_key is not the Agent key's: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, trustDir, "tam-1.pub.pem")); err != nil {
		t.Fatalf("no public copy of the TAM key: %v", err)
	}
}
