package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestCLIEventLogNotInStateFile: after boots, the emulator's state.json
// holds its bookkeeping (boots, the last boot's images) but no event log:
// the measurements belong to the secure world for the power-on.
func TestCLIEventLogNotInStateFile(t *testing.T) {
	t.Parallel()
	dev := filepath.Join(t.TempDir(), "dev")
	for _, args := range [][]string{{"device", "init", "--dir", dev}, {"device", "reboot", "--dir", dev}, {"device", "reboot", "--dir", dev}} {
		if out, e, code := teeup(t, args...); code != 0 {
			t.Fatalf("%v: %s%s", args, out, e)
		}
	}
	var st map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dev, "state.json")), &st); err != nil {
		t.Fatal(err)
	}
	if st["boots"] != float64(2) {
		t.Fatalf("state.json: %v", st)
	}
	if _, ok := st["events"]; ok {
		t.Fatalf("state.json holds an event log: %v", st["events"])
	}
	if last, ok := st["last_boot"].(map[string]any); !ok || last["events"] != nil {
		t.Fatalf("state.json's last boot: %v", st["last_boot"])
	}
}
