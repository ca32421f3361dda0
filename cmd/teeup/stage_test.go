package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIDeviceStageRefusedWritesNothing: `device stage` of a manifest the
// device refuses (an older sequence number, a digest that does not match,
// a key the device does not trust for the component) exits non-zero and
// leaves flash.bin byte for byte as it was; the next honest stage works.
func TestCLIDeviceStageRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	dev := filepath.Join(t.TempDir(), "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dev); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	older, _ := jumpRelease(t, dev, "normal", 0, "") // the factory images are at 1
	mismatch, payload := jumpRelease(t, dev, "normal", 7, "https://fw.example/normal-7.bin")
	tampered := filepath.Join(filepath.Dir(dev), "tampered.bin")
	raw := mustRead(t, payload)
	raw[len(raw)-1] ^= 1
	os.WriteFile(tampered, raw, 0o644)
	// Signed by the operator, whom the device trusts for the secure image only.
	os.Rename(filepath.Join(dev, "dev-keys", "author.pem"), filepath.Join(dev, "dev-keys", "author.pem.bak"))
	os.Link(filepath.Join(dev, "dev-keys", "operator.pem"), filepath.Join(dev, "dev-keys", "author.pem"))
	unauthorized, _ := jumpRelease(t, dev, "normal", 8, "")
	os.Remove(filepath.Join(dev, "dev-keys", "author.pem"))
	os.Rename(filepath.Join(dev, "dev-keys", "author.pem.bak"), filepath.Join(dev, "dev-keys", "author.pem"))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"older sequence number", []string{older}, "rollback"},
		{"image that does not match", []string{"--image", "normal=" + tampered, mismatch}, "digest"},
		{"key not trusted for the component", []string{unauthorized}, "authoriz"},
	} {
		before := mustRead(t, filepath.Join(dev, "flash.bin"))
		_, e, code := teeup(t, append([]string{"device", "stage", "--dir", dev}, tc.args...)...)
		if code == 0 || !strings.Contains(strings.ToLower(e), tc.want) {
			t.Fatalf("%s: exit %d, %s", tc.name, code, e)
		}
		if after := mustRead(t, filepath.Join(dev, "flash.bin")); !bytes.Equal(before, after) {
			t.Fatalf("%s: the refused stage changed flash.bin at offset %d", tc.name, firstByteDiff(before, after))
		}
	}
	honest, _ := jumpRelease(t, dev, "normal", 9, "")
	if out, e, code := teeup(t, "device", "stage", "--dir", dev, honest); code != 0 {
		t.Fatalf("honest stage: %s%s", out, e)
	}
	if out, _, _ := teeup(t, "device", "reboot", "--dir", dev); !strings.Contains(out, "normal sequence 9") {
		t.Fatalf("boot of the honest stage:\n%s", out)
	}
}

func firstByteDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
