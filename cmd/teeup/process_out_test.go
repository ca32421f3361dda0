package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCLIProcessOutNames: `manifest process --out DIR` puts every
// component in a file of its own inside DIR. On 9d2e92e the component of
// one empty byte string wrote DIR.bin beside DIR, and ['a-b'] and
// ['a','b'] shared one file, the second overwriting the first.
func TestCLIProcessOutNames(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	for name, body := range map[string]string{"e.bin": "empty part", "ab.bin": "a-b", "a_b.bin": "a,b", "t.bin": "text 00", "z.bin": "byte 00"} {
		if err := os.WriteFile(in(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(in("spec.json"), []byte(`{"sequence-number": 1,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": [""], "file": "e.bin", "integrate": true},
	                 {"id": ["612d62"], "file": "ab.bin", "integrate": true},
	                 {"id": ["61", "62"], "file": "a_b.bin", "integrate": true},
	                 {"id": ["3030"], "file": "t.bin", "integrate": true},
	                 {"id": ["00"], "file": "z.bin", "integrate": true}]}`), 0o644)
	if out, e, code := teeup(t, "manifest", "keygen", "--alg", "ES256", "--out", in("k.pem")); code != 0 {
		t.Fatalf("keygen: %s%s", out, e)
	}
	if out, e, code := teeup(t, "manifest", "create", in("spec.json"), "--key", in("k.pem"), "--integrate", "--out", in("u.suit")); code != 0 {
		t.Fatalf("create: %s%s", out, e)
	}
	out := in("out")
	if stdout, e, code := teeup(t, "manifest", "process", "--key", in("k.pub.pem"), "--out", out, in("u.suit")); code != 0 {
		t.Fatalf("process: exit %d\n%s%s", code, stdout, e)
	}
	if _, err := os.Stat(out + ".bin"); err == nil {
		t.Errorf("%s.bin written beside the output directory", out)
	}
	for name, want := range map[string]string{"%.bin": "empty part", "a-b.bin": "a-b", "a+b.bin": "a,b", "00.bin": "text 00", "%00.bin": "byte 00"} {
		if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
}
