package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/emulator/device"
)

// taSpec writes a TA manifest spec and builds the envelope, signed by a
// TA author's development key.
func (d *runningDevice) taEnvelope(name, author string, seq int, components string) string {
	d.t.Helper()
	dir := filepath.Dir(d.dir)
	spec := filepath.Join(dir, name+".json")
	os.WriteFile(spec, fmt.Appendf(nil, `{"sequence-number": %d,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [%s]}`, seq, components), 0o644)
	env := filepath.Join(dir, name+".suit")
	if out, e, code := teeup(d.t, "manifest", "create", spec, "--key", filepath.Join(d.dir, "dev-keys", "ta-"+author+".pem"), "--out", env); code != 0 {
		d.t.Fatalf("create %s: %s%s", name, out, e)
	}
	return env
}

// TestDeviceRunTAWithPersonalization installs a TA whose personalization
// data is encrypted for the device, through both processes, and checks
// what the normal world saw: every byte that crossed ipc is recorded, and
// neither the plaintext personalization nor any private key is in it, nor
// in the flash image; the secure storage holds the plaintext.
func TestDeviceRunTAWithPersonalization(t *testing.T) {
	tap := filepath.Join(t.TempDir(), "ipc")
	d := startDevice(t, "true", "--record-ipc", tap)
	dir := filepath.Dir(d.dir)
	secret := "wifi-psk=correct horse battery staple; api-token=7f3c9e"
	taImage := strings.Repeat("hello TA, release 1\n", 300)
	os.WriteFile(filepath.Join(dir, "hello.ta"), []byte(taImage), 0o644)
	hello := `"'TA'", "'acme'", "'hello'"`
	install := d.taEnvelope("hello-1", "acme", 1, fmt.Sprintf(`
	    {"id": [%s], "file": "hello.ta", "uri": "https://tam.example/hello.ta"},
	    {"id": [%s, "'personalization'"], "content": %q, "encrypt": {"recipient": %q}}`,
		hello, hello, hex.EncodeToString([]byte(secret)), device.AgreementKeyFile(d.dir)))
	out, e, code := d.update("--payload", "https://tam.example/hello.ta="+filepath.Join(dir, "hello.ta"), install)
	if code != 0 || !strings.Contains(out, "['TA','acme','hello']: UPDATED, sequence 1") || !strings.Contains(out, "no reboot needed") {
		t.Fatalf("TA install: exit %d\n%s%s", code, out, e)
	}

	t.Logf("device update:\n%s", out)
	// Another author may not touch acme's TAs.
	foreign := d.taEnvelope("foreign", "globex", 9, fmt.Sprintf(`{"id": [%s], "file": "hello.ta", "integrate": true}`, hello))
	if out, e, code := d.update(foreign); code == 0 || !strings.Contains(out+e, "not authorized") {
		t.Fatalf("a foreign author's TA: exit %d\n%s%s", code, out, e)
	}
	// The old manifest replayed after an update is refused.
	update := d.taEnvelope("hello-2", "acme", 2, fmt.Sprintf(`{"id": [%s], "content": %q}`, hello, hex.EncodeToString([]byte("hello TA, release 2"))))
	if out, e, code := d.update(update); code != 0 || !strings.Contains(out, "['TA','acme','hello']: UPDATED, sequence 2") {
		t.Fatalf("TA update: exit %d\n%s%s", code, out, e)
	}
	if out, e, code := d.update("--payload", "https://tam.example/hello.ta="+filepath.Join(dir, "hello.ta"), install); code == 0 {
		t.Fatalf("replayed install: exit 0\n%s%s", out, e)
	}
	d.stop()

	// What the secure world keeps, read with the device's own TPM.
	dev, err := device.Open(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := dev.OpenStore()
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	dk, err := st.DeviceKeys()
	tas := st.TAs()
	dev.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(tas) != 1 || string(tas[0].Personalization) != secret || string(tas[0].Image) != "hello TA, release 2" || tas[0].SequenceNumber != 2 {
		t.Fatalf("the TA store holds %+v", tas)
	}
	// The operator's view lists the TA, never its personalization data.
	out, e, code = teeup(t, "device", "status", "--dir", d.dir, "--json")
	if code != 0 || !strings.Contains(out, `"id": "['TA','acme','hello']"`) || !strings.Contains(out, `"personalized": true`) || strings.Contains(out, "correct horse") {
		t.Fatalf("device status: exit %d\n%s%s", code, out, e)
	}

	toSecure, _ := os.ReadFile(tap + ".to-secure")
	toNormal, _ := os.ReadFile(tap + ".to-normal")
	flashImage, _ := os.ReadFile(filepath.Join(d.dir, "flash.bin"))
	if !bytes.Contains(toSecure, []byte(taImage[:1000])) {
		t.Fatal("the recording does not hold the TA image that crossed: it recorded nothing useful")
	}
	att, _ := dk.Attestation.Bytes()
	secrets := map[string][]byte{
		"plaintext personalization": []byte(secret), "part of it": []byte("correct horse"),
		"device agreement key": dk.Agreement.Bytes(), "device attestation key": att,
	}
	for _, name := range []string{"author", "operator", "ta-acme", "ta-globex"} {
		secrets[name+" signing key"] = privateScalar(t, filepath.Join(d.dir, "dev-keys", name+".pem"))
	}
	for name, s := range secrets {
		for where, b := range map[string][]byte{"ipc to the secure world": toSecure, "ipc to the normal world": toNormal, "the flash": flashImage} {
			if bytes.Contains(b, s) {
				t.Errorf("%s holds the %s", where, name)
			}
		}
	}
	t.Logf("recorded %d bytes to the secure world and %d to the normal world; checked %d secrets against them and a %d-byte flash",
		len(toSecure), len(toNormal), len(secrets), len(flashImage))

	// Unlink, after a restart: the TA is gone, its sequence number stays.
	d.start()
	unlink := d.taEnvelope("hello-unlink", "acme", 3, fmt.Sprintf(`{"id": [%s], "unlink": true}`, hello))
	if out, e, code := d.update(unlink); code != 0 || strings.Contains(out, "'hello'") {
		t.Fatalf("unlink: exit %d\n%s%s", code, out, e)
	}
	if out, e, code := d.update(update); code == 0 {
		t.Fatalf("reinstall below the unlink: exit 0\n%s%s", out, e)
	}
}

func privateScalar(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		ek, err2 := x509.ParseECPrivateKey(block.Bytes)
		if err2 != nil {
			t.Fatalf("%s: %v", path, err)
		}
		k = ek
	}
	b, err := k.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
