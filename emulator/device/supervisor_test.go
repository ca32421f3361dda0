package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWorlds writes a stand-in for the teeup binary: a script that counts
// its power-ons in DIR/boots and plays each world as told (the secure
// world's shell lines; the normal world waits to be stopped).
func fakeWorlds(t *testing.T, dir, secure string) string {
	t.Helper()
	exe := filepath.Join(dir, "worlds.sh")
	script := fmt.Sprintf(`#!/bin/sh
case "$2" in
secure-world) echo boot >> %q/boots; %s ;;
normal-world) exec sleep 60 ;;
esac
`, dir, secure)
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func boots(t *testing.T, dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "boots"))
	return strings.Count(string(b), "boot")
}

// syncBuffer is a log a test reads while the supervisor writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSupervisorEndings: a fault the secure world reports halts the
// device at once with its reason; crashes are restarted with a growing
// delay, counted in the log, and capped; resets asked for are no crashes.
func TestSupervisorEndings(t *testing.T) {
	t.Parallel()
	policy := RestartPolicy{Burst: 3, Interval: time.Hour, Delay: time.Millisecond, MaxDelay: 4 * time.Millisecond}
	tests := []struct {
		name      string
		secure    string
		maxBoots  int
		wantErr   error
		wantBoots int
		wantLog   []string
	}{
		{"fault halts at once", `echo "flash on fire" >&4; exit 4`, 0, nil, 1, []string{`msg="the device halts" world=secure reason="flash on fire"`}},
		{"crashes are capped", `exit 1`, 0, ErrCrashLoop, 4,
			[]string{"crash=1 of=3", "crash=2 of=3", "crash=3 of=3", "delay=1ms", "delay=2ms", "delay=4ms", `msg="crash loop: the device halts"`}},
		{"resets are not crashes", `exit 3`, 6, nil, 6, []string{"reset requested by the secure world"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var log syncBuffer
			s := &Supervisor{Dir: dir, Exe: fakeWorlds(t, dir, tc.secure), Restart: policy, MaxBoots: tc.maxBoots,
				Log: slog.New(slog.NewTextHandler(&log, nil))}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := s.Run(ctx)
			if ctx.Err() != nil {
				t.Fatal("the supervisor did not end")
			}
			var halt *HaltError
			switch {
			case tc.name == "fault halts at once":
				if !errors.As(err, &halt) || halt.World != "secure" || halt.Reason != "flash on fire" {
					t.Errorf("Run = %v, want a halt of the secure world for its reason", err)
				}
			case !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil):
				t.Errorf("Run = %v, want %v", err, tc.wantErr)
			}
			if n := boots(t, dir); n != tc.wantBoots {
				t.Errorf("%d power-ons, want %d", n, tc.wantBoots)
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(log.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, log.String())
				}
			}
			if _, err := os.Stat(filepath.Join(dir, pidFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind: %v", pidFile, err)
			}
		})
	}
}

// TestRunLock: while a supervisor runs a device, a second one is refused
// and told which process runs it; a run.pid left by a dead supervisor is
// detected as stale, cleared, and does not stop the next run.
func TestRunLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := lockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	var running *RunningError
	if _, err := lockRun(dir); !errors.As(err, &running) || running.PID != os.Getpid() || !errors.Is(err, ErrRunning) {
		t.Fatalf("second lock = %v, want ErrRunning naming %d", err, os.Getpid())
	}
	if pid, err := runningPID(dir); err != nil || pid != os.Getpid() {
		t.Fatalf("runningPID = %d, %v", pid, err)
	}
	l.release()
	if _, err := runningPID(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("runningPID after release = %v, want ErrNotRunning", err)
	}

	// A supervisor that died left its PID (here one no process has).
	stale := filepath.Join(dir, pidFile)
	if err := os.WriteFile(stale, []byte("999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PowerCut(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("PowerCut with a stale %s = %v, want ErrNotRunning", pidFile, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale %s was not cleared: %v", pidFile, err)
	}
	os.WriteFile(stale, []byte("999999999\n"), 0o600)
	l, err = lockRun(dir)
	if err != nil {
		t.Fatalf("lock over a stale %s: %v", pidFile, err)
	}
	defer l.release()
	if b, _ := os.ReadFile(stale); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("%s holds %q, want this process", pidFile, b)
	}
}

// TestCheckSupervisor: a world whose supervisor is not its parent (it
// died before the parent death signal was armed) refuses to run.
func TestCheckSupervisor(t *testing.T) {
	t.Setenv(supervisorEnv, strconv.Itoa(os.Getppid()))
	if err := CheckSupervisor(); err != nil {
		t.Fatalf("under its supervisor: %v", err)
	}
	t.Setenv(supervisorEnv, strconv.Itoa(os.Getppid()+1))
	if err := CheckSupervisor(); !errors.Is(err, ErrOrphan) {
		t.Fatalf("orphaned: %v, want ErrOrphan", err)
	}
}
