package main

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDeviceStatusWhileRunning: `device status` of a running device asks
// it, through its normal world (issue 11, item 8), says that it runs, and
// shows what the same command shows of the device once it is off.
func TestDeviceStatusWhileRunning(t *testing.T) {
	t.Parallel()
	d := startDevice(t, "true")
	status := func() (map[string]any, string) {
		t.Helper()
		out, e, code := teeup(t, "device", "status", "--dir", d.dir, "--json")
		if code != 0 {
			t.Fatalf("device status: exit %d\n%s%s", code, out, e)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		text, e, code := teeup(t, "device", "status", "--dir", d.dir)
		if code != 0 {
			t.Fatalf("device status: exit %d\n%s%s", code, text, e)
		}
		return doc, text
	}
	running, text := status()
	if running["running"] != true || !strings.Contains(text, "device: running") {
		t.Fatalf("the running device is not reported running:\n%v\n%s", running, text)
	}
	d.stop()
	off, text := status()
	if off["running"] != false || !strings.Contains(text, "device: off") {
		t.Fatalf("the stopped device is not reported off:\n%v\n%s", off, text)
	}
	// The emulator's count of boots is kept by the process that runs the
	// device, and written when it stops.
	// The confinement is the running normal world's (TestStatusSaysConfinement).
	for _, k := range []string{"running", "boots", "last_error", "confinement"} {
		delete(running, k)
		delete(off, k)
	}
	if !reflect.DeepEqual(running, off) {
		t.Fatalf("running, the device reports\n%v\noff, it reports\n%v", running, off)
	}
	if comps, _ := off["components"].([]any); len(comps) != 2 || off["state"] != "idle" {
		t.Fatalf("the status shows %v", off)
	}
}

// TestDeviceStatusChangesNothing: `device status` of a device that is off
// creates and changes no file: not state.json, not the TPM's state, and
// not a flash.bin or a TPM state that is missing, which it reports instead
// of making anew (issue 11, item 8).
func TestDeviceStatusChangesNothing(t *testing.T) {
	t.Parallel()
	dev := filepath.Join(t.TempDir(), "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dev); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	if out, e, code := teeup(t, "device", "reboot", "--dir", dev); code != 0 {
		t.Fatalf("reboot: %s%s", out, e)
	}
	aside := t.TempDir()
	for _, tc := range []struct {
		name    string
		remove  string // a file moved away first, if any
		wantErr bool
	}{
		{"whole device", "", false},
		{"flash.bin missing", "flash.bin", true},
		{"TPM state missing", filepath.Join("tpm", "tpm-nv.state"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.remove != "" {
				if err := os.Rename(filepath.Join(dev, tc.remove), filepath.Join(aside, "moved")); err != nil {
					t.Fatal(err)
				}
				defer os.Rename(filepath.Join(aside, "moved"), filepath.Join(dev, tc.remove))
			}
			before := tree(t, dev)
			for _, args := range [][]string{{"--json"}, {}} {
				out, e, code := teeup(t, append([]string{"device", "status", "--dir", dev}, args...)...)
				if (code != 0) != tc.wantErr {
					t.Fatalf("device status %v: exit %d\n%s%s", args, code, out, e)
				}
			}
			if after := tree(t, dev); !maps.Equal(before, after) {
				t.Fatalf("device status changed the device directory:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// tree maps every file under dir to the SHA-256 of its contents.
func tree(t *testing.T, dir string) map[string][sha256.Size]byte {
	t.Helper()
	files := map[string][sha256.Size]byte{}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := root.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
