package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCLIDeviceUpdateFlow(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "dev")
	run := func(args ...string) string {
		t.Helper()
		out, e, code := teeup(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, e)
		}
		return out
	}
	status := func() map[string]any {
		t.Helper()
		var st map[string]any
		if err := json.Unmarshal([]byte(run("device", "status", "--dir", dev, "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	run("device", "init", "--dir", dev)
	if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, "normal sequence 1") {
		t.Fatalf("first boot:\n%s", out)
	}
	// An update built with the device's development key, like a user would.
	os.WriteFile(filepath.Join(dir, "n2.bin"), []byte(strings.Repeat("normal v2\n", 300)), 0o644)
	os.WriteFile(filepath.Join(dir, "n2.json"), []byte(`{"sequence-number": 2,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": ["6e6f726d616c"], "file": "n2.bin", "integrate": true}]}`), 0o644)
	run("manifest", "create", filepath.Join(dir, "n2.json"), "--key", filepath.Join(dev, "dev-keys", "author.pem"),
		"--out", filepath.Join(dir, "n2.suit"))
	run("device", "stage", "--dir", dev, filepath.Join(dir, "n2.suit"))
	if st := status(); st["state"] != "staged" {
		t.Fatalf("after stage: %v", st["state"])
	}
	if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, "normal sequence 2") || !strings.Contains(out, "TRIAL") {
		t.Fatalf("trial boot:\n%s", out)
	}
	// A power cut during the next boot, which reverts; the boot after it
	// finishes the revert.
	if out := run("device", "reboot", "--dir", dev, "--cut-at", "4", "--cut-mode", "torn"); !strings.Contains(out, "power cut") {
		t.Fatalf("cut boot:\n%s", out)
	}
	if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, "reverted") || !strings.Contains(out, "normal sequence 1") {
		t.Fatalf("recovery boot:\n%s", out)
	}
	// Again, accepted this time.
	run("device", "stage", "--dir", dev, filepath.Join(dir, "n2.suit"))
	run("device", "reboot", "--dir", dev)
	run("device", "accept", "--dir", dev)
	if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, "normal sequence 2") || strings.Contains(out, "TRIAL") {
		t.Fatalf("after accept:\n%s", out)
	}
	st := status()
	comps := st["components"].([]any)
	normal := comps[1].(map[string]any)
	if normal["counter"].(float64) != 2 || st["boots"].(float64) != 6 {
		t.Errorf("status after accept: %v", st)
	}
	// A validly signed manifest older than the counter is refused.
	spec := mustRead(t, filepath.Join(dir, "n2.json"))
	os.WriteFile(filepath.Join(dir, "n1.json"), []byte(strings.Replace(string(spec), `"sequence-number": 2`, `"sequence-number": 1`, 1)), 0o644)
	run("manifest", "create", filepath.Join(dir, "n1.json"), "--key", filepath.Join(dev, "dev-keys", "author.pem"),
		"--out", filepath.Join(dir, "n1.suit"))
	_, e, code := teeup(t, "device", "stage", "--dir", dev, filepath.Join(dir, "n1.suit"))
	if code == 0 || !strings.Contains(e, "rollback") {
		t.Fatalf("an older manifest: exit %d, %s", code, e)
	}
}

func TestCLIDeviceSweepFormat(t *testing.T) {
	out, e, code := teeup(t, "device", "sweep", "--scenario", "atomic", "--stride", "9")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, e)
	}
	line := regexp.MustCompile(`^scenario=atomic mode=(before|after|torn) ops=\d+ cuts=\d+ second-cuts=\d+ violations=0$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines:\n%s", out)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("line %q", l)
		}
	}
}
