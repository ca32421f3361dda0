package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceUpdateReportsTheSecureWorldsAnswer: what `device update`
// reports is what the secure world answered (issue 11, item 6): it says
// "update accepted" and exits 0 only when the secure world reports every
// component of the set UPDATED, at the new sequence number.
func TestDeviceUpdateReportsTheSecureWorldsAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// health is the health command, given the device's directory.
		health func(dir string) string
		seq    int
		// mustFail: the secure world cannot accept this update.
		mustFail bool
	}{
		// The health check passes, then the TPM state cannot be written
		// (its directory is gone): the secure world fails the accept.
		{"accept fails on a TPM fault", func(dir string) string {
			return "mv " + filepath.Join(dir, "tpm") + " " + filepath.Join(dir, "tpm.gone")
		}, 2, true},
		// A timestamp-style sequence number: accepted if the device can
		// commit it, refused otherwise; either way, truthfully.
		{"sequence number jump", func(string) string { return "true" }, 65538, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDevice(t, "true")
			d.stop()
			d.args = []string{"--health-cmd", tc.health(d.dir)}
			d.start()
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
