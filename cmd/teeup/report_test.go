package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIReport processes manifests with a report signed by a device key,
// then verifies each report on the receiving side: success, a failed
// condition, and a manifest that does not authenticate.
func TestCLIReport(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	if out, e, code := teeup(t, "manifest", "keygen", "--alg", "ES256", "--out", in("device.pem")); code != 0 {
		t.Fatalf("keygen: %s%s", out, e)
	}
	os.WriteFile(in("dev.json"), []byte(`{"vendor-ids": ["fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"], "class-ids": ["00000000000000000000000000000002"],
	  "components": [{"id": ["00"]}], "fixed": true}`), 0o644)
	pub := spec(t, "suit-manifest/public-key.pem")
	tests := []struct {
		name   string
		args   []string
		exit   bool
		result string
	}{
		{"success", []string{"--key", pub, "--simulate-missing-payloads", spec(t, "suit-manifest/example1.hex")}, false, `"result": true`},
		{"wrong class", []string{"--key", pub, "--device", in("dev.json"), "--simulate-missing-payloads", spec(t, "suit-manifest/example1.hex")}, true, `"reason": "condition-failed"`},
		{"unauthenticated", []string{"--key", spec(t, "suit-firmware-encryption/dependent-signer-public-key.pem"), spec(t, "suit-manifest/example1.hex")}, true, `"reason": "unauthorised"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			report := in(strings.ReplaceAll(tc.name, " ", "-") + ".cbor")
			args := append([]string{"manifest", "process", "--out", in("out"), "--report", report, "--report-key", in("device.pem"),
				"--nonce", "0102", "--report-json"}, tc.args...)
			out, e, code := teeup(t, args...)
			if (code != 0) != tc.exit {
				t.Fatalf("process: exit %d\n%s%s", code, out, e)
			}
			if !strings.Contains(out, tc.result) {
				t.Errorf("process output lacks %s:\n%s", tc.result, out)
			}
			out, e, code = teeup(t, "manifest", "report", "--key", in("device.pub.pem"), "--json", report)
			if code != 0 {
				t.Fatalf("report: exit %d\n%s%s", code, out, e)
			}
			var doc reportDoc
			if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Nonce != "0102" || doc.Signer == "" || !strings.HasPrefix(doc.ManifestDigest, "sha-256:") {
				t.Errorf("report %+v", doc)
			}
			if !strings.Contains(out, tc.result) {
				t.Errorf("verified report lacks %s:\n%s", tc.result, out)
			}
			// Another key does not verify it.
			if _, _, code := teeup(t, "manifest", "report", "--key", pub, report); code == 0 {
				t.Error("report verified with the wrong key")
			}
		})
	}
	// The condition failure names where it happened: the class check of
	// the shared sequence.
	out, _, _ := teeup(t, "manifest", "report", "--key", in("device.pub.pem"), in("wrong-class.cbor"))
	if !strings.Contains(out, "result: condition-failed (code 42) in shared-sequence at offset") {
		t.Errorf("report text:\n%s", out)
	}
}
