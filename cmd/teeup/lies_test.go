package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDeviceUpdateReportsTheSecureWorldsAnswer: what `device update`
// reports is what the secure world answered (issue 11, item 6): it says
// "update accepted" and exits 0 only when the secure world reports every
// component of the set UPDATED, at the new sequence number.
func TestDeviceUpdateReportsTheSecureWorldsAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// fault, if set, is done to the device's directory while the
		// health check of the trial runs (the confined normal world
		// cannot reach it: the test does it from outside).
		fault func(dir string) error
		seq   int
		// mustFail: the secure world cannot accept this update.
		mustFail bool
	}{
		// The health check passes, then the TPM state cannot be written
		// (its directory is gone): the secure world fails the accept.
		{"accept fails on a TPM fault", func(dir string) error {
			return os.Rename(filepath.Join(dir, "tpm"), filepath.Join(dir, "tpm.gone"))
		}, 2, true},
		// A timestamp-style sequence number: accepted if the device can
		// commit it, refused otherwise; either way, truthfully.
		{"sequence number jump", nil, 65538, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDevice(t, "true")
			if tc.fault != nil {
				d.stop()
				d.args = []string{"--health-cmd", faultDuringHealthCheck(t, d.dir, tc.fault)}
				d.start()
			}
			uri := "https://fw.example/normal.bin"
			env, payload := d.release("normal", tc.seq, uri)
			out, e, code := d.update("--payload", uri+"="+payload, env)
			seq, state := d.seq("normal")
			inEffect := seq == uint64(tc.seq) && state == "UPDATED"
			said := strings.Contains(out, "update accepted")
			t.Logf("exit %d, the secure world reports normal %d %s\n%s%s", code, seq, state, out, e)
			if (code == 0) != inEffect || said != inEffect {
				t.Fatalf("device update: exit %d, says accepted %v; the secure world reports normal at %d, %s\n%s%s",
					code, said, seq, state, out, e)
			}
			if tc.mustFail && code == 0 {
				t.Fatalf("the update succeeded though the accept failed\n%s%s", out, e)
			}
		})
	}
}

// faultDuringHealthCheck is a health command that says it started (a
// file in its working directory, the normal world's spool) and passes
// once the test has done fault to the device directory, which it does as
// soon as the command starts.
func faultDuringHealthCheck(t *testing.T, dir string, fault func(string) error) string {
	t.Helper()
	marks := t.TempDir()
	for _, m := range []string{marks, filepath.Dir(marks)} { // the normal world's user looks in it
		if err := os.Chmod(m, 0o755); err != nil { //nolint:gosec // G302: a folder the normal world's user must look in
			t.Fatal(err)
		}
	}
	started, done := filepath.Join(dir, "spool", "health-started"), filepath.Join(marks, "fault-done")
	go func() {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(started); err == nil {
				if err := fault(dir); err != nil {
					t.Errorf("fault: %v", err)
				}
				os.WriteFile(done, nil, 0o644)
				return
			}
		}
	}()
	return "touch health-started && while [ ! -e " + done + " ]; do sleep 0.05; done"
}
