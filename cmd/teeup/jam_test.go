package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDeviceUpdateAfterFailure: an update that fails at any point leaves
// a device whose next honest update works (issue 11, item 2). Each row
// runs a two-process device, fails an update there, then updates it
// honestly; on a device that does not cancel a failed update, the honest
// one is refused as busy.
func TestDeviceUpdateAfterFailure(t *testing.T) {
	t.Parallel()
	// A firmware server: a 404, and a payload cut in half whose resumption
	// is refused.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/truncated/") {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Range") != "" {
			http.Error(w, "no resumption", http.StatusForbidden)
			return
		}
		b, err := os.ReadFile(filepath.Join(r.URL.Query().Get("dir"), filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)/2))
		w.Write(b[:len(b)/2]) //nolint:gosec // G705: the test's own payload, served to the device under test
	}))
	t.Cleanup(srv.Close) // after the parallel rows, which run once this function returns
	closed := unusedAddr(t)

	for _, tc := range []struct {
		name string
		// fail runs the failing update on d, which must say why: want.
		fail func(t *testing.T, d *runningDevice) (string, string, int)
		want string
	}{
		{"refused second envelope", func(t *testing.T, d *runningDevice) (string, string, int) {
			env, payload := d.release("normal", 2, "https://fw.example/normal-2.bin")
			garbage := filepath.Join(t.TempDir(), "garbage.suit")
			os.WriteFile(garbage, []byte("not an envelope"), 0o644)
			return d.update("--payload", "https://fw.example/normal-2.bin="+payload, env, garbage)
		}, "envelope 2: ipc: secure: rejected"},
		{"payload not found (404)", func(t *testing.T, d *runningDevice) (string, string, int) {
			env, _ := d.release("normal", 2, srv.URL+"/missing/normal-2.bin")
			return d.update(env)
		}, "HTTP 404"},
		{"truncated payload", func(t *testing.T, d *runningDevice) (string, string, int) {
			env, _ := d.release("normal", 2, srv.URL+"/truncated/normal-2.bin?dir="+filepath.Dir(d.dir))
			return d.update(env)
		}, "HTTP 403"},
		{"unreachable payload URL", func(t *testing.T, d *runningDevice) (string, string, int) {
			env, _ := d.release("normal", 2, "http://"+closed+"/normal-2.bin")
			return d.update(env)
		}, "connection refused"},
		{"missing local payload file", func(t *testing.T, d *runningDevice) (string, string, int) {
			env, _ := d.release("normal", 2, "https://fw.example/normal-2.bin")
			return d.update("--payload", "https://fw.example/normal-2.bin="+filepath.Join(t.TempDir(), "missing.bin"), env)
		}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := startDevice(t, "true")
			if out, e, code := tc.fail(t, d); code == 0 || !strings.Contains(out+e, tc.want) {
				t.Fatalf("the failing update: exit %d, want a failure saying %q\n%s%s", code, tc.want, out, e)
			}
			d.honestUpdate(3)
		})
	}
}

// TestDeviceUpdateInterrupted: Ctrl-C on `device update` while the normal
// world waits for a payload cancels the update it started: the command
// says so and exits non-zero, and the next honest update works.
func TestDeviceUpdateInterrupted(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a server that never sends the payload
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	d := startDevice(t, "true")
	env, _ := d.release("normal", 2, srv.URL+"/normal-2.bin")
	upd := exec.Command(os.Args[0], "device", "update", "--dir", d.dir, "--timeout", "60s", env)
	upd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	out := &lockedBuffer{}
	upd.Stdout, upd.Stderr = out, out
	if err := upd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "envelope 1 accepted") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	upd.Process.Signal(syscall.SIGINT)
	err := upd.Wait()
	if code := upd.ProcessState.ExitCode(); err == nil || code == 0 {
		t.Fatalf("interrupted update: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "update cancelled") {
		t.Errorf("the interrupted update does not say it was cancelled:\n%s", out.String())
	}
	d.honestUpdate(3)
}

// honestUpdate updates the normal world to seq with a payload the normal
// world has as a file, and checks that the device runs it, accepted.
func (d *runningDevice) honestUpdate(seq int) {
	d.t.Helper()
	uri := "https://fw.example/normal-" + strconv.Itoa(seq) + ".bin"
	env, payload := d.release("normal", seq, uri)
	if out, e, code := d.update("--payload", uri+"="+payload, env); code != 0 || !strings.Contains(out, "update accepted") {
		d.t.Fatalf("the next honest update: exit %d\n%s%s", code, out, e)
	}
	if s, st := d.seq("normal"); s != uint64(seq) || st != "UPDATED" {
		d.t.Fatalf("after the honest update the normal world runs %d, %s", s, st)
	}
}

// unusedAddr returns a local address nothing listens on.
func unusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
