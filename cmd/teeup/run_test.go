package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/storage"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	secureworld "github.com/teeup/teeup/secure/world"
)

// runningDevice is a `teeup device run` in the background.
type runningDevice struct {
	t    *testing.T
	dir  string
	args []string
	cmd  *exec.Cmd
	log  *lockedBuffer // both worlds' output, and the supervisor's
}

func startDevice(t *testing.T, health string, extra ...string) *runningDevice {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dir); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	d := &runningDevice{t: t, dir: dir, args: append([]string{"--health-cmd", health}, extra...), log: &lockedBuffer{}}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("device log:\n%s", d.log.String())
		}
	})
	d.start()
	return d
}

// start runs the device and waits until its normal world answers.
func (d *runningDevice) start() {
	d.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"device", "run", "--dir", d.dir}, d.args...)...)
	cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.cmd = cmd
	d.status()
}

// stop shuts the device down in order (SIGTERM), as Ctrl-C does.
func (d *runningDevice) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

func (d *runningDevice) status() *normalStatus {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		st, err := normalWorldStatus(ctx, filepath.Join(d.dir, controlSocket))
		if err == nil {
			return st
		}
		select {
		case <-ctx.Done():
			d.t.Fatalf("the device does not answer: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *runningDevice) seq(name string) (uint64, string) {
	d.t.Helper()
	for _, c := range d.status().Components {
		if string(c.ID[0]) == name {
			return c.SequenceNumber, string(c.State)
		}
	}
	d.t.Fatalf("no component %s", name)
	return 0, ""
}

// release builds an envelope for a component of the running device,
// signed with its development keys; the payload is detached at uri.
func (d *runningDevice) release(comp string, seq int, uri string) (envPath, payloadPath string) {
	d.t.Helper()
	dir := filepath.Dir(d.dir)
	payloadPath = filepath.Join(dir, fmt.Sprintf("%s-%d.bin", comp, seq))
	os.WriteFile(payloadPath, []byte(strings.Repeat(fmt.Sprintf("%s world, release %d\n", comp, seq), 200+seq%100)), 0o644)
	spec := filepath.Join(dir, fmt.Sprintf("%s-%d.json", comp, seq))
	os.WriteFile(spec, fmt.Appendf(nil, `{"sequence-number": %d,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": [%q], "file": %q, "uri": %q}]}`, seq, fmt.Sprintf("%x", comp), filepath.Base(payloadPath), uri), 0o644)
	envPath = filepath.Join(dir, fmt.Sprintf("%s-%d.suit", comp, seq))
	args := []string{"manifest", "create", spec, "--key", filepath.Join(d.dir, "dev-keys", "author.pem"), "--out", envPath}
	if comp == "secure" {
		args = append(args, "--key", filepath.Join(d.dir, "dev-keys", "operator.pem"))
	}
	if out, e, code := teeup(d.t, args...); code != 0 {
		d.t.Fatalf("create: %s%s", out, e)
	}
	return envPath, payloadPath
}

func (d *runningDevice) update(args ...string) (string, string, int) {
	d.t.Helper()
	return teeup(d.t, append([]string{"device", "update", "--dir", d.dir, "--timeout", "60s"}, args...)...)
}

// TestDeviceRunEndToEnd runs a device as two processes and updates it
// through the normal world: normal only (payload over HTTP), secure only,
// both atomically, and a trial the health check rejects; it checks that
// the normal world holds no handle on the flash or the TPM, and that a
// power cut leaves a device that boots and reports the truth.
func TestDeviceRunEndToEnd(t *testing.T) {
	// The marker's folder is one the normal world's user may look in.
	marks := t.TempDir()
	for _, dir := range []string{marks, filepath.Dir(marks)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := startDevice(t, "test ! -e "+filepath.Join(marks, "unhealthy"))
	unhealthy := strings.TrimPrefix(d.cmd.Args[len(d.cmd.Args)-1], "test ! -e ")

	// Payloads served over HTTP, as a firmware server would.
	files := http.Dir(filepath.Dir(d.dir))
	srv := httptest.NewServer(http.FileServer(files))
	defer srv.Close()

	env, _ := d.release("normal", 2, srv.URL+"/normal-2.bin")
	if out, e, code := d.update(env); code != 0 || !strings.Contains(out, "update accepted") {
		t.Fatalf("normal-only update: exit %d\n%s%s", code, out, e)
	}
	if s, st := d.seq("normal"); s != 2 || st != "UPDATED" {
		t.Fatalf("normal after update: %d %s", s, st)
	}

	env, payload := d.release("secure", 2, "https://fw.example/secure-2.bin")
	if out, e, code := d.update("--payload", "https://fw.example/secure-2.bin="+payload, env); code != 0 {
		t.Fatalf("secure-only update: exit %d\n%s%s", code, out, e)
	}
	if s, _ := d.seq("secure"); s != 2 {
		t.Fatalf("secure after update: %d", s)
	}

	envS, payS := d.release("secure", 3, "https://fw.example/secure-3.bin")
	envN, _ := d.release("normal", 3, srv.URL+"/normal-3.bin")
	if out, e, code := d.update("--payload", "https://fw.example/secure-3.bin="+payS, envS, envN); code != 0 {
		t.Fatalf("atomic update: exit %d\n%s%s", code, out, e)
	}
	if s1, _ := d.seq("secure"); s1 != 3 {
		t.Fatalf("secure after atomic update: %d", s1)
	}
	if s2, _ := d.seq("normal"); s2 != 3 {
		t.Fatalf("normal after atomic update: %d", s2)
	}

	// Isolation: the normal world's process has no descriptor on the
	// flash or the TPM state.
	st := d.status()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", st.PID))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", st.PID, fd.Name()))
		if strings.Contains(target, "flash.bin") || strings.Contains(target, filepath.Join(d.dir, "tpm")) {
			t.Errorf("the normal world holds %s", target)
		}
	}

	// The chunks crossed through the shared region, which the normal
	// world maps writable and the secure world read-only: nothing goes
	// from the secure world to the normal world through it.
	secure := siblingWorld(t, st.PID)
	for pid, want := range map[int]string{st.PID: "rw-s", secure: "r--s"} {
		if got := sharedMapping(t, pid); got != want {
			t.Errorf("process %d maps the shared region %q, want %q", pid, got, want)
		}
	}

	// A trial the health check rejects: the old images come back.
	os.WriteFile(unhealthy, nil, 0o644)
	env, _ = d.release("normal", 4, srv.URL+"/normal-4.bin")
	if out, _, code := d.update(env); code == 0 || !strings.Contains(out, "update rejected") {
		t.Fatalf("rejected update: exit %d\n%s", code, out)
	}
	os.Remove(unhealthy)
	pid := d.status().PID
	if _, _, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
		t.Fatal("kill failed")
	}
	for d.status().PID == pid {
		time.Sleep(50 * time.Millisecond)
	}
	if s, st := d.seq("normal"); s != 3 || st != "READY" {
		t.Fatalf("after the rejected trial and a power cut: normal %d %s", s, st)
	}
	raw, _ := json.Marshal(d.status())
	t.Logf("final status: %s", raw)
}

// TestDeviceRunPowerCuts updates a running device again and again (both
// images at once, sequence k) and cuts its power at a random moment of
// each update (seeded). After every restart the device must run a pair
// that was released together, never older than before, whose images are
// the released bytes, and say so truthfully. TEEUP_SOAK_UPDATES sets the
// number of updates (make soak runs 200).
func TestDeviceRunPowerCuts(t *testing.T) {
	n := 12
	if s := os.Getenv("TEEUP_SOAK_UPDATES"); s != "" {
		fmt.Sscan(s, &n)
	}
	d := startDevice(t, "true")
	rng := rand.New(rand.NewPCG(2026, 11))
	last := uint64(1)
	cutsDuringUpdate, landed := 0, 0
	for k := 2; k < n+2; k++ {
		envS, payS := d.release("secure", k, fmt.Sprintf("https://fw.example/secure-%d.bin", k))
		envN, payN := d.release("normal", k, fmt.Sprintf("https://fw.example/normal-%d.bin", k))
		before := d.status().PID
		upd := exec.Command(os.Args[0], "device", "update", "--dir", d.dir, "--timeout", "30s",
			"--payload", fmt.Sprintf("https://fw.example/secure-%d.bin=%s", k, payS),
			"--payload", fmt.Sprintf("https://fw.example/normal-%d.bin=%s", k, payN), envS, envN)
		upd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
		if err := upd.Start(); err != nil {
			t.Fatal(err)
		}
		updDone := make(chan error, 1)
		go func() { updDone <- upd.Wait() }()
		select {
		case <-time.After(time.Duration(rng.IntN(120)) * time.Millisecond):
			cutsDuringUpdate++
		case <-updDone:
			updDone <- nil
		}
		if _, _, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
			t.Fatal("kill failed")
		}
		<-updDone
		var st *normalStatus
		for st = d.status(); st.PID == before; st = d.status() {
			time.Sleep(20 * time.Millisecond)
		}
		// A trial the cut interrupted is accepted by the health check
		// of the next boot, or reverted by the one after: either way the
		// pair stays whole.
		s, nrm := st.Components[0], st.Components[1]
		if s.SequenceNumber != nrm.SequenceNumber {
			t.Fatalf("update %d: mixed pair secure %d, normal %d", k, s.SequenceNumber, nrm.SequenceNumber)
		}
		if s.SequenceNumber < last || (s.SequenceNumber != last && s.SequenceNumber != uint64(k)) {
			t.Fatalf("update %d: runs %d after %d", k, s.SequenceNumber, last)
		}
		for _, c := range st.Components {
			if c.State == "FAILED" || c.State == "WRITING" || c.State == "CANDIDATE" {
				t.Fatalf("update %d: %s reports %s after a restart", k, c.ID[0], c.State)
			}
			want := releasedDigest(t, filepath.Dir(d.dir), string(c.ID[0]), int(c.SequenceNumber))
			if want != nil && !bytes.Equal(c.Digest, want) {
				t.Fatalf("update %d: %s reports digest %x, the released image hashes to %x", k, c.ID[0], c.Digest, want)
			}
		}
		if s.SequenceNumber == uint64(k) {
			landed++
		}
		last = s.SequenceNumber
	}
	t.Logf("%d updates, %d cut while the update ran, %d landed, %d lost to the cut (old pair kept); device ends at sequence %d",
		n, cutsDuringUpdate, landed, n-landed, last)
	if last == 1 {
		t.Error("no update ever completed: the cuts came too early to test anything")
	}
}

// releasedDigest is the encoded SUIT digest of a released payload, or nil
// for the factory image (not kept as a file).
func releasedDigest(t *testing.T, dir, comp string, seq int) []byte {
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s-%d.bin", comp, seq)))
	if err != nil {
		return nil
	}
	d, err := suit.DigestOf(suit.AlgSHA256, b)
	if err != nil {
		t.Fatal(err)
	}
	return d.Encode()
}

// siblingWorld returns the other child of the supervisor of the world
// whose PID is pid.
func siblingWorld(t *testing.T, pid int) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	tasks, _ := filepath.Glob("/proc/" + f[1] + "/task/*/children")
	for _, task := range tasks {
		kids, _ := os.ReadFile(task)
		for _, k := range strings.Fields(string(kids)) {
			if other, _ := strconv.Atoi(k); other != pid {
				return other
			}
		}
	}
	t.Fatalf("no sibling of %d", pid)
	return 0
}

// sharedMapping returns the permissions with which process pid maps the
// shared region, or "" if it does not.
func sharedMapping(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "teeup-ipc-shared") {
			return strings.Fields(line)[1]
		}
	}
	return ""
}

// TestDeviceRunHaltsOnRestoredStore: the secure storage's region of a
// powered-off device is written back from a copy taken before a change
// to its TA store. Powered on, the device halts, saying why, rather than
// run on the older store: `device run` exits non-zero, with no reset.
func TestDeviceRunHaltsOnRestoredStore(t *testing.T) {
	d := startDevice(t, "true")
	d.stop()
	dev, err := device.Open(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	region := secureworld.StoreRegion(dev.Config.Layout)
	size := 2 * region.BankSectors * region.SectorSize
	flashBin := filepath.Join(d.dir, "flash.bin")
	image, err := os.ReadFile(flashBin)
	if err != nil {
		t.Fatal(err)
	}
	earlier := bytes.Clone(image[region.Off : region.Off+int64(size)])
	st, err := dev.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	ta := storage.TA{ID: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, SequenceNumber: 1,
		Envelope: []byte("envelope"), Image: []byte("hello TA")}
	if err := st.Apply([]storage.TA{ta}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(flashBin, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(earlier, region.Off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out := runUntilExit(t, d.dir, 30*time.Second)
	if code == 0 {
		t.Fatalf("device run exited 0 on a restored store:\n%s", out)
	}
	if !strings.Contains(out, "teeup: the device halts: secure world: secure storage refused") || !strings.Contains(out, "older than the TPM counter") {
		t.Fatalf("the device did not halt on the restored store:\n%s", out)
	}
	if strings.Contains(out, "crashed") || strings.Contains(out, "reset requested") {
		t.Fatalf("the device reset instead of halting:\n%s", out)
	}
}

// lockedBuffer is an output that a test may read while a process writes
// to it, as its standard output and error at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
