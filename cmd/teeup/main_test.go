package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run the real binary's main: the test binary re-execs
// itself with TEEUP_RUN_MAIN set, so exit codes and stderr are the real ones.
func TestMain(m *testing.M) {
	if os.Getenv("TEEUP_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	// Under -race a process waits a second at exit for late reports; the
	// tests start hundreds of processes. Races are still reported (exit 66).
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

func teeup(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// spec returns the path of a published vector copied into testdata/ (each
// folder's README names its source).
func spec(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("testdata", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIVerifyVectors(t *testing.T) {
	pub := spec(t, "suit-manifest/public-key.pem")
	for _, f := range []string{"example0.hex", "example1.hex", "example2.hex", "example2-severed.hex", "example3.hex", "example4.hex", "example5.hex"} {
		if out, errOut, code := teeup(t, "manifest", "verify", "--key", pub, spec(t, "suit-manifest/"+f)); code != 0 {
			t.Errorf("%s: exit %d: %s%s", f, code, out, errOut)
		}
	}
	_, errOut, code := teeup(t, "manifest", "verify", "--key", pub, spec(t, "suit-manifest/example0-unsigned.hex"))
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "no authentication block") {
		t.Errorf("unsigned: exit %d, stderr %q", code, errOut)
	}
}

// TestCLIVerifyFlippedBytes flips each byte of a signed example, in both
// stored forms (binary and hex text), and requires verify to fail.
func TestCLIVerifyFlippedBytes(t *testing.T) {
	pub := spec(t, "suit-manifest/public-key.pem")
	raw, err := os.ReadFile(spec(t, "suit-manifest/example3.hex"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := hex.DecodeString(strings.TrimSpace(string(raw)))
	dir := t.TempDir()
	for i := 0; i < len(data); i += 7 { // every 7th byte keeps the re-execs short; the library test covers all
		mut := bytes.Clone(data)
		mut[i] ^= 0x80
		f := filepath.Join(dir, "m.suit")
		if i%2 == 1 {
			os.WriteFile(f, []byte(hex.EncodeToString(mut)), 0o644)
		} else {
			os.WriteFile(f, mut, 0o644)
		}
		_, errOut, code := teeup(t, "manifest", "verify", "--key", pub, f)
		if code == 0 {
			t.Fatalf("byte %d flipped: verify exit 0", i)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 {
			t.Fatalf("byte %d: stderr is %d lines: %q", i, len(lines), errOut)
		}
	}
}

func TestCLIAuthorFlow(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(in("a.bin"), []byte("image A"), 0o644)
	os.WriteFile(in("b.bin"), []byte("image B"), 0o644)
	os.WriteFile(in("spec.json"), []byte(`{"sequence-number": 9,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": ["00"], "file": "a.bin", "uri": "https://x/a.bin", "invoke": true},
	                 {"id": ["6e6f726d616c"], "file": "b.bin"}]}`), 0o644)
	os.WriteFile(in("device.json"), []byte(`{"vendor-ids": ["fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"],
	  "components": [{"id": ["00"], "sequence-number": 8}, {"id": ["6e6f726d616c"], "sequence-number": 8}], "fixed": true}`), 0o644)
	for _, alg := range []string{"ES256", "ESP256", "ES384", "Ed25519"} {
		if out, e, code := teeup(t, "manifest", "keygen", "--alg", alg, "--out", in(alg+".pem")); code != 0 {
			t.Fatalf("keygen %s: %s%s", alg, out, e)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		out, e, code := teeup(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, e)
		}
		return out
	}
	run("manifest", "create", in("spec.json"), "--key", in("ES256.pem"), "--integrate", "--out", in("u.suit"))
	run("manifest", "sign", "--key", in("Ed25519.pem"), "--in-place", in("u.suit"))
	out := run("manifest", "verify", "--key", in("ES256.pub.pem"), "--key", in("Ed25519.pub.pem"), in("u.suit"))
	if !strings.Contains(out, "signed by 2 of 2") {
		t.Errorf("verify: %s", out)
	}
	if _, _, code := teeup(t, "manifest", "verify", "--key", in("ES384.pub.pem"), in("u.suit")); code == 0 {
		t.Error("verified with a key that did not sign")
	}
	out = run("manifest", "process", "--key", in("ES256.pub.pem"), "--device", in("device.json"), "--out", in("out"), in("u.suit"))
	if !strings.Contains(out, "invoked [00]") {
		t.Errorf("process output:\n%s", out)
	}
	for name, want := range map[string]string{"%00.bin": "image A", "normal.bin": "image B"} {
		got, err := os.ReadFile(filepath.Join(dir, "out", name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	// The device stores sequence number 8; a manifest with 7 is refused.
	os.WriteFile(in("old.json"), bytes.Replace(mustRead(t, in("spec.json")), []byte(`"sequence-number": 9`), []byte(`"sequence-number": 7`), 1), 0o644)
	run("manifest", "create", in("old.json"), "--key", in("ES256.pem"), "--integrate", "--out", in("old.suit"))
	_, e, code := teeup(t, "manifest", "process", "--key", in("ES256.pub.pem"), "--device", in("device.json"), "--out", in("out2"), in("old.suit"))
	if code == 0 || !strings.Contains(e, "rollback") {
		t.Errorf("rollback: exit %d, %s", code, e)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCLIInspectJSON(t *testing.T) {
	out, e, code := teeup(t, "manifest", "inspect", "--json", spec(t, "suit-manifest/example4.hex"))
	if code != 0 {
		t.Fatal(e)
	}
	var doc inspectDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SequenceNumber != 4 || len(doc.Components) != 3 || !doc.DigestMatches || len(doc.AuthBlocks) != 1 {
		t.Errorf("doc %+v", doc)
	}
	names := map[string]bool{}
	for _, s := range doc.Sequences {
		names[s.Name] = true
	}
	for _, want := range []string{"shared-sequence", "payload-fetch", "install", "validate", "load", "invoke"} {
		if !names[want] {
			t.Errorf("inspect lacks %s: %v", want, names)
		}
	}
	if !strings.Contains(out, `"directive-copy"`) {
		t.Error("commands not decoded by name")
	}
}

func TestCLIProcessExample3Slot(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "device.json")
	os.WriteFile(dev, []byte(`{"components": [{"id": ["00"], "slot": 1}], "fixed": true}`), 0o644)
	out, e, code := teeup(t, "manifest", "process", "--key", spec(t, "suit-manifest/public-key.pem"), "--device", dev,
		"--simulate-missing-payloads", "--out", filepath.Join(dir, "out"), spec(t, "suit-manifest/example3.hex"))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, e)
	}
	if !strings.Contains(out, "uri=http://example.com/file2.bin: ok") || !strings.Contains(out, "simulated") {
		t.Errorf("output:\n%s", out)
	}
	// Without simulation the payload is missing, and processing says so.
	_, e, code = teeup(t, "manifest", "process", "--key", spec(t, "suit-manifest/public-key.pem"), "--device", dev,
		"--out", filepath.Join(dir, "out2"), spec(t, "suit-manifest/example3.hex"))
	if code == 0 || !strings.Contains(e, "payload not available") {
		t.Errorf("exit %d, %s", code, e)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"manifest"}, {"manifest", "verify"}, {"manifest", "create", "x.json"}} {
		if _, _, code := teeup(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
