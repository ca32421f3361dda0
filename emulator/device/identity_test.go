package device

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
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
