package device

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
