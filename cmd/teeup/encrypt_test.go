package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectorPlaintext = "This is a real firmware image."

// TestCLIEncryptedVectors verifies each firmware-encryption manifest and
// processes it with the device's published keys: every one decrypts its
// payload to the published plaintext.
func TestCLIEncryptedVectors(t *testing.T) {
	dir := t.TempDir()
	fe := func(name string) string { return spec(t, "suit-firmware-encryption/"+name) }
	macKey := filepath.Join(dir, "mac.key")
	kek := filepath.Join(dir, "kek.key")
	os.WriteFile(macKey, bytes.Repeat([]byte("a"), 32), 0o600)
	os.WriteFile(kek, []byte("aaaaaaaaaaaaaaaa"), 0o600)
	payload := filepath.Join(dir, "payload.bin")
	os.WriteFile(payload, mustHexFile(t, fe("encrypted-payload-aes-kw-aes-gcm.hex")), 0o644)
	tests := []struct {
		file, auth, key, out string
	}{
		{"suit-manifest-aes-kw-content.hex.signed", "--mac-key", macKey, "plaintext-firmware.bin"},
		{"suit-manifest-aes-kw-slot.hex.signed", "--mac-key", macKey, "%00.bin"},
		{"suit-manifest-aes-kw.hex.signed", "--mac-key", macKey, "plaintext-firmware.bin"},
		{"suit-manifest-es-ecdh-content.hex.signed", "--key", fe("signer-public-key.pem"), "decrypted-firmware.bin"},
	}
	for i, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			if out, e, code := teeup(t, "manifest", "verify", tc.auth, tc.key, fe(tc.file)); code != 0 || !strings.Contains(out, "verified") {
				t.Fatalf("verify: exit %d\n%s%s", code, out, e)
			}
			outDir := filepath.Join(dir, "out", string(rune('a'+i)))
			out, e, code := teeup(t, "manifest", "process", tc.auth, tc.key, "--kek", kek, "--device-key", fe("recipient-ecdh-private-key-TEST-ONLY.pem"),
				"--payload", "coaps://example.com/encrypted-firmware="+payload, "--out", outDir, fe(tc.file))
			if code != 0 {
				t.Fatalf("process: exit %d\n%s%s", code, out, e)
			}
			if got := string(mustRead(t, filepath.Join(outDir, tc.out))); got != vectorPlaintext {
				t.Errorf("%s = %q, want %q\n%s", tc.out, got, vectorPlaintext, out)
			}
			if !strings.Contains(out, "decrypted (A128GCM") {
				t.Errorf("trace does not say it decrypted:\n%s", out)
			}
		})
	}
	// Without the device's key the payload stays sealed, and process says why.
	_, e, code := teeup(t, "manifest", "process", "--mac-key", macKey, "--payload", "coaps://example.com/encrypted-firmware="+payload,
		"--out", filepath.Join(dir, "nokey"), fe("suit-manifest-aes-kw.hex.signed"))
	if code == 0 || !strings.Contains(e, "no key for any recipient") {
		t.Errorf("without --kek: exit %d, %s", code, e)
	}
	// A MAC key of the wrong value does not verify.
	os.WriteFile(macKey, bytes.Repeat([]byte("b"), 32), 0o600)
	if _, _, code := teeup(t, "manifest", "verify", "--mac-key", macKey, fe("suit-manifest-aes-kw.hex.signed")); code == 0 {
		t.Error("verified with the wrong MAC key")
	}
}

// TestCLIEncryptAuthorFlow has an author encrypt payloads for a device's
// KEK and for its public key, with both algorithms, as a written,
// an integrated and a fetched component, and the device decrypt them.
func TestCLIEncryptAuthorFlow(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(in("a.bin"), []byte("secret image A"), 0o644)
	os.WriteFile(in("b.bin"), []byte("secret image B, a little longer than one AES block"), 0o644)
	os.WriteFile(in("c.bin"), []byte("personalization data"), 0o644)
	os.WriteFile(in("kek.key"), []byte("0123456789abcdef"), 0o600)
	for _, name := range []string{"author", "device"} {
		if out, e, code := teeup(t, "manifest", "keygen", "--alg", "ES256", "--out", in(name+".pem")); code != 0 {
			t.Fatalf("keygen: %s%s", out, e)
		}
	}
	os.WriteFile(in("spec.json"), []byte(`{"sequence-number": 3,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [
	    {"id": ["00"], "file": "a.bin", "integrate": true, "encrypt": {"kek": "kek.key", "kid": "kid-1"}},
	    {"id": ["01"], "file": "b.bin", "uri": "https://fw.example/b.enc", "encrypt": {"recipient": "device.pub.pem", "alg": "A128CTR"}},
	    {"id": ["02"], "content": "`+hexOf("personalization data")+`", "encrypt": {"recipient": "device.pub.pem"}}]}`), 0o644)
	out, e, code := teeup(t, "manifest", "create", in("spec.json"), "--key", in("author.pem"), "--publish", in("pub"), "--out", in("m.suit"))
	if code != 0 || !strings.Contains(out, "b.enc at https://fw.example/b.enc") {
		t.Fatalf("create: %s%s", out, e)
	}
	if b := mustRead(t, in("pub/b.enc")); bytes.Contains(b, []byte("secret")) {
		t.Error("the published payload is not encrypted")
	}
	if out, e, code := teeup(t, "manifest", "create", in("spec.json"), "--key", in("author.pem"), "--integrate", "--out", in("all.suit")); code != 0 {
		t.Fatalf("create --integrate: %s%s", out, e)
	}
	want := map[string]string{"%00.bin": "secret image A", "%01.bin": "secret image B, a little longer than one AES block", "%02.bin": "personalization data"}
	for i, args := range [][]string{
		{in("all.suit")},
		{"--payload", "https://fw.example/b.enc=" + in("pub/b.enc"), in("m.suit")},
	} {
		outDir := in(fmt.Sprintf("out%d", i))
		out, e, code = teeup(t, append([]string{"manifest", "process", "--key", in("author.pub.pem"), "--kek", in("kek.key"),
			"--device-key", in("device.pem"), "--out", outDir}, args...)...)
		if code != 0 {
			t.Fatalf("process %v: exit %d\n%s%s", args, code, out, e)
		}
		for name, w := range want {
			if got := string(mustRead(t, filepath.Join(outDir, name))); got != w {
				t.Errorf("%v: %s = %q, want %q", args, name, got, w)
			}
		}
	}
	for _, id := range []string{"%00+encrypted", "%01+encrypted"} {
		if b, err := os.ReadFile(in(filepath.Join("out0", id+".bin"))); err != nil || bytes.Contains(b, []byte("secret")) {
			t.Errorf("staging %s: %v, holds plaintext: %v", id, err, bytes.Contains(b, []byte("secret")))
		}
	}
	// Without the device key the ECDH-ES components cannot be decrypted.
	_, e, code = teeup(t, "manifest", "process", "--key", in("author.pub.pem"), "--kek", in("kek.key"), "--out", in("out2"), in("all.suit"))
	if code == 0 || !strings.Contains(e, "no key for any recipient") {
		t.Errorf("without --device-key: exit %d, %s", code, e)
	}
	// The fetched manifest needs the ciphertext at its URI: without it,
	// processing stops at the fetch.
	_, e, code = teeup(t, "manifest", "process", "--key", in("author.pub.pem"), "--kek", in("kek.key"), "--device-key", in("device.pem"),
		"--out", in("out9"), in("m.suit"))
	if code == 0 || !strings.Contains(e, "payload not available") {
		t.Errorf("without the ciphertext: exit %d, %s", code, e)
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

func mustHexFile(t *testing.T, path string) []byte {
	t.Helper()
	return decodeMaybeHex(mustRead(t, path))
}
