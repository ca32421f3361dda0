package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jumpRelease writes a payload and a signed envelope of component comp at
// sequence number seq (a size that does not grow with seq) next to the
// device dir, and returns the envelope's path and the payload's. With uri
// empty the payload is integrated.
func jumpRelease(t *testing.T, dev, comp string, seq uint64, uri string) (envPath, payloadPath string) {
	t.Helper()
	dir := filepath.Dir(dev)
	name := fmt.Sprintf("%s-%d", comp, seq)
	payloadPath = filepath.Join(dir, name+".bin")
	if err := os.WriteFile(payloadPath, []byte(strings.Repeat(fmt.Sprintf("%s world, release %d\n", comp, seq), 150)), 0o644); err != nil {
		t.Fatal(err)
	}
	where := `"integrate": true`
	if uri != "" {
		where = fmt.Sprintf("%q: %q", "uri", uri)
	}
	spec := filepath.Join(dir, name+".json")
	if err := os.WriteFile(spec, fmt.Appendf(nil, `{"sequence-number": %d,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": [%q], "file": %q, %s}]}`, seq, fmt.Sprintf("%x", comp), filepath.Base(payloadPath), where), 0o644); err != nil {
		t.Fatal(err)
	}
	envPath = filepath.Join(dir, name+".suit")
	args := []string{"manifest", "create", spec, "--key", filepath.Join(dev, "dev-keys", "author.pem"), "--out", envPath}
	if comp == "secure" {
		args = append(args, "--key", filepath.Join(dev, "dev-keys", "operator.pem"))
	}
	if out, e, code := teeup(t, args...); code != 0 {
		t.Fatalf("create: %s%s", out, e)
	}
	return envPath, payloadPath
}

// TestCLIDeviceSequenceJump stages, boots and accepts, offline, manifests
// whose sequence numbers jump far above the counters: just past 65,536, a
// UTC timestamp (draft-ietf-suit-manifest-37 §8.4.2), and the top of
// uint64. Each is accepted, boots confirmed afterwards and leaves the
// journal idle, and the next update (or the refusal of an older one)
// works.
func TestCLIDeviceSequenceJump(t *testing.T) {
	t.Parallel()
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
	state := func() (string, float64) {
		t.Helper()
		var st struct {
			State      string `json:"state"`
			Components []struct {
				Counter float64 `json:"counter"`
			} `json:"components"`
		}
		if err := json.Unmarshal([]byte(run("device", "status", "--dir", dev, "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return st.State, st.Components[1].Counter
	}
	run("device", "init", "--dir", dev)
	run("device", "reboot", "--dir", dev)
	for _, seq := range []uint64{65538, 1764765716, 1<<64 - 1} {
		env, _ := jumpRelease(t, dev, "normal", seq, "")
		run("device", "stage", "--dir", dev, env)
		if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, fmt.Sprintf("normal sequence %d", seq)) || !strings.Contains(out, "TRIAL") {
			t.Fatalf("trial boot of %d:\n%s", seq, out)
		}
		run("device", "accept", "--dir", dev)
		if st, counter := state(); st != "idle" || counter != float64(seq) {
			t.Fatalf("after accepting %d: state %s, counter %v", seq, st, counter)
		}
		if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, fmt.Sprintf("normal sequence %d", seq)) || strings.Contains(out, "TRIAL") {
			t.Fatalf("boot after accepting %d:\n%s", seq, out)
		}
	}
	// Below the top of uint64 nothing stages any more.
	env, _ := jumpRelease(t, dev, "normal", 1764765717, "")
	if _, e, code := teeup(t, "device", "stage", "--dir", dev, env); code == 0 || !strings.Contains(e, "rollback") {
		t.Fatalf("an older manifest after the jumps: exit %d, %s", code, e)
	}
	if out := run("device", "reboot", "--dir", dev); !strings.Contains(out, fmt.Sprintf("normal sequence %d", uint64(1<<64-1))) {
		t.Fatalf("boot after the refusal:\n%s", out)
	}
}

// TestDeviceRunSequenceJump updates a running two-process device to
// sequence 65538 and then to a UTC timestamp, both images at once: each
// update is accepted, the device keeps running, and after a power cut it
// runs the new pair.
func TestDeviceRunSequenceJump(t *testing.T) {
	d := startDevice(t, "true")
	for _, seq := range []uint64{65538, 1764765716} {
		uriS := fmt.Sprintf("https://fw.example/secure-%d.bin", seq)
		uriN := fmt.Sprintf("https://fw.example/normal-%d.bin", seq)
		envS, payS := jumpRelease(t, d.dir, "secure", seq, uriS)
		envN, payN := jumpRelease(t, d.dir, "normal", seq, uriN)
		out, e, code := d.update("--payload", uriS+"="+payS, "--payload", uriN+"="+payN, envS, envN)
		if code != 0 || !strings.Contains(out, "update accepted") {
			t.Fatalf("update to %d: exit %d\n%s%s", seq, code, out, e)
		}
		for _, comp := range []string{"secure", "normal"} {
			if s, st := d.seq(comp); s != seq || st != "UPDATED" {
				t.Fatalf("%s after the update to %d: %d %s", comp, seq, s, st)
			}
		}
	}
	pid := d.status().PID
	if _, _, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
		t.Fatal("kill failed")
	}
	for d.status().PID == pid {
		time.Sleep(50 * time.Millisecond)
	}
	for _, comp := range []string{"secure", "normal"} {
		if s, st := d.seq(comp); s != 1764765716 || st != "READY" {
			t.Fatalf("%s after a power cut: %d %s", comp, s, st)
		}
	}
}
