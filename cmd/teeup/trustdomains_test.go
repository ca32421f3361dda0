package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLITrustDomains processes the trust-domain examples and the
// firmware-encryption dependency example from the command line, with
// keys trusted for their own components only.
func TestCLITrustDomains(t *testing.T) {
	dir := t.TempDir()
	td := func(name string) string { return spec(t, "suit-trust-domains/"+name) }
	fe := func(name string) string { return spec(t, "suit-firmware-encryption/"+name) }
	dependency := filepath.Join(dir, "dependent.suit")
	os.WriteFile(dependency, mustHexFile(t, td("example0_dependent.hex")), 0o644)
	tdAnchor := td("public-key.pem") + "=text:00,text:10,text:dependent.suit,text:depending.suit"
	for _, name := range []string{"example1_process.hex", "example2_integrated.hex"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name)
			stdout, e, code := teeup(t, "manifest", "process", "--anchor", tdAnchor, "--payload", "http://example.com/dependent.suit="+dependency,
				"--out", out, td(name))
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, stdout, e)
			}
			for file, want := range map[string]string{"00.bin": "hello world", "10.bin": " in multiple trust domains"} {
				if got := string(mustRead(t, filepath.Join(out, file))); got != want {
					t.Errorf("%s = %q, want %q", file, got, want)
				}
			}
			if !strings.Contains(stdout, "install of dependency [1]: directive-write [0] 11 bytes: ok") || !strings.Contains(stdout, "invoked ['10']") {
				t.Errorf("output:\n%s", stdout)
			}
		})
	}
	// The dependency's key trusted for another component only: refused.
	_, e, code := teeup(t, "manifest", "process", "--anchor", td("public-key.pem")+"=text:10,text:dependent.suit,text:depending.suit",
		"--out", filepath.Join(dir, "refused"), td("example2_integrated.hex"))
	if code == 0 || !strings.Contains(e, "not authorized") {
		t.Errorf("dependency outside its signer's prefixes: exit %d, %s", code, e)
	}

	out := filepath.Join(dir, "fe")
	stdout, e, code := teeup(t, "manifest", "process",
		"--anchor", fe("dependent-signer-public-key.pem")+"=text:dependent-manifest.suit,text:dependency-manifest.suit",
		"--anchor", fe("signer-public-key.pem")+"=text:decrypted-firmware",
		"--device-key", fe("recipient-ecdh-private-key-TEST-ONLY.pem"), "--out", out, fe("suit-manifest-es-ecdh-dependency.hex.signed"))
	if code != 0 {
		t.Fatalf("encrypted dependency: exit %d\n%s%s", code, stdout, e)
	}
	if got := string(mustRead(t, filepath.Join(out, "decrypted-firmware.bin"))); got != vectorPlaintext {
		t.Errorf("decrypted-firmware = %q", got)
	}
}
