package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runUntilExit runs `teeup device run --dir dir` and waits for it to end
// by itself; a device still running after limit fails the test (it loops
// or hangs instead of halting).
func runUntilExit(t *testing.T, dir string, limit time.Duration) (code int, out string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "device", "run", "--dir", dir)
	cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return ee.ExitCode(), log.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, log.String()
	case <-time.After(limit):
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		out := log.String()
		t.Fatalf("device run still runs after %v, %d resets:\n%.3000s", limit, strings.Count(out, "reset"), out)
		return 0, ""
	}
}

// TestDeviceRunHaltsOnFault: a directory that is not a device, a
// truncated flash.bin, a corrupt TPM state: `device run` halts at once,
// says why and exits non-zero, instead of resetting the device forever.
func TestDeviceRunHaltsOnFault(t *testing.T) {
	t.Parallel()
	truncate := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, name)
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		init   bool
		damage func(t *testing.T, dir string)
		reason string
	}{
		{"not a device", false, func(t *testing.T, dir string) { os.MkdirAll(dir, 0o700) }, "device.json"},
		{"truncated flash", true, truncate("flash.bin"), "flash.bin"},
		{"corrupt TPM state", true, truncate(filepath.Join("tpm", "tpm-nv.state")), "tpm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "dev")
			if tc.init {
				if out, e, code := teeup(t, "device", "init", "--dir", dir); code != 0 {
					t.Fatalf("init: %s%s", out, e)
				}
			}
			tc.damage(t, dir)
			code, out := runUntilExit(t, dir, 30*time.Second)
			if code == 0 {
				t.Fatalf("device run exited 0 on a fault:\n%s", out)
			}
			if !strings.Contains(out, "teeup: the device halts: secure world: the hardware does not open") || !strings.Contains(out, tc.reason) {
				t.Errorf("the halt does not say why (%s):\n%s", tc.reason, out)
			}
			if strings.Contains(out, "crashed") || strings.Contains(out, "reset requested") {
				t.Errorf("the device reset instead of halting:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "run.pid")); err == nil {
				t.Error("run.pid left behind")
			}
		})
	}
}

// TestDeviceRunRefusesSecondRun: a second `device run` on a running
// device is refused, names the process that runs it and leaves run.pid
// alone, so that `device kill` still reaches the device that runs.
func TestDeviceRunRefusesSecondRun(t *testing.T) {
	t.Parallel()
	d := startDevice(t, "true")
	first := d.cmd.Process.Pid
	code, out := runUntilExit(t, d.dir, 30*time.Second)
	if code == 0 || !strings.Contains(out, "already running") || !strings.Contains(out, fmt.Sprintf("supervisor process %d", first)) {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(d.dir, "run.pid")); strings.TrimSpace(string(b)) != strconv.Itoa(first) {
		t.Fatalf("run.pid holds %q, want the first supervisor %d", b, first)
	}
	before := d.status().PID
	if _, e, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
		t.Fatalf("kill: %s", e)
	}
	for d.status().PID == before {
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestDeviceRunNoOrphans: whatever ends the supervisor (SIGKILL, SIGHUP,
// SIGINT, SIGTERM), both worlds end with it and free the TPM, so that the
// device runs again at once; the terminal's signals stop it cleanly, and
// the run.pid a killed supervisor leaves is found stale and cleared.
func TestDeviceRunNoOrphans(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			d := startDevice(t, "true")
			normal := d.status().PID
			secure := siblingWorld(t, normal)
			cmd := d.cmd
			d.cmd = nil // this test waits for it
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			if sig != syscall.SIGKILL && err != nil {
				t.Errorf("device run after %v: %v, want a clean stop", sig, err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for (alive(normal) || alive(secure)) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(normal) || alive(secure) {
				syscall.Kill(normal, syscall.SIGKILL)
				syscall.Kill(secure, syscall.SIGKILL)
				t.Fatalf("after %v of the supervisor the worlds run on (normal %v, secure %v)", sig, alive(normal), alive(secure))
			}
			pidFile := filepath.Join(d.dir, "run.pid")
			if sig == syscall.SIGKILL {
				if _, err := os.Stat(pidFile); err != nil {
					t.Fatalf("a killed supervisor left no run.pid to find stale: %v", err)
				}
				if _, e, code := teeup(t, "device", "kill", "--dir", d.dir); code == 0 || !strings.Contains(e, "not running") {
					t.Fatalf("kill of a dead device: exit %d, %s", code, e)
				}
			}
			if _, err := os.Stat(pidFile); err == nil {
				t.Fatal("run.pid is still there")
			}
			d.start() // the TPM is free: the device answers again
			if _, e, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
				t.Fatalf("kill of the restarted device: %s", e)
			}
		})
	}
}
