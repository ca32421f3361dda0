package main

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/confine"
)

// hostileEnv names, in a test's device run, the file that tells the
// normal world to turn hostile: the device directory to go after and the
// file to write its attempts to.
const hostileEnv = "TEEUP_TEST_HOSTILE_NORMAL_WORLD"

type hostileSpec struct {
	Dir string `json:"dir"`
	Out string `json:"out"`
}

// The hostile normal world exists only in the test binary: the real
// normal world's process (device normal-world, its descriptors, its
// confinement) with a probe step once it is confined, before it reads
// any input.
func init() {
	path := os.Getenv(hostileEnv)
	if path == "" || len(os.Args) < 3 || os.Args[1] != "device" || os.Args[2] != "normal-world" {
		return
	}
	var spec hostileSpec
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &spec) != nil {
		return // not yet: the test writes it once the device is made
	}
	normalWorldProbe = func() func() {
		// Before the confinement, as the test's setup: what to go after.
		out, err := os.Create(spec.Out + ".tmp")
		if err != nil {
			panic(err)
		}
		targets := hostileTargets(spec.Dir)
		return func() {
			json.NewEncoder(out).Encode(confine.Probe(targets))
			out.Close()
			// Renamed by the test (the spool is all it could write).
		}
	}
}

// hostileTargets lists everything in the device directory but the normal
// world's own spool and control socket, and finds the secure world: the
// supervisor's other child.
func hostileTargets(dir string) confine.Targets {
	t := confine.Targets{Create: []string{filepath.Join(dir, "planted"), filepath.Join(dir, "tpm", "planted")}}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case e.Name() == device.SpoolDir && e.IsDir():
			return filepath.SkipDir
		case e.Name() == device.ControlSocket:
			return nil
		}
		t.Paths = append(t.Paths, p)
		return nil
	})
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !strings.Contains(string(cmdline), "secure-world") || parentPID(pid) != os.Getppid() {
			continue
		}
		t.SecurePID = pid
		if maps, err := os.Open(filepath.Join("/proc", e.Name(), "maps")); err == nil {
			sc := bufio.NewScanner(maps)
			if sc.Scan() {
				start, _, _ := strings.Cut(sc.Text(), "-")
				addr, _ := strconv.ParseUint(start, 16, 64)
				t.SecureAddr = uintptr(addr)
			}
			maps.Close()
		}
	}
	return t
}

func parentPID(pid int) int {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	// pid (comm) state ppid ...: comm may hold spaces, not ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// TestConfinedNormalWorldAttacks: a normal world that an attacker controls, run
// as the real normal world's process, goes after the secure world once
// it is confined: every file of the device directory (flash with the
// secure storage's banks, the TPM's state, dev-keys, identity, trust,
// the configuration), read and written, new files planted, the secure
// world's memory through /proc/PID/mem, its environment and maps,
// ptrace, process_vm_readv and _writev, and its descriptors through
// pidfd_getfd. Every attempt must be refused for want of permission
// (EACCES or EPERM); any that succeeds, or fails otherwise, fails the
// test.
func TestConfinedNormalWorldAttacks(t *testing.T) {
	work := t.TempDir()
	spec := filepath.Join(work, "hostile.json")
	out := filepath.Join(work, "attempts.json")
	t.Setenv(hostileEnv, spec)
	d := startDevice(t, "true")
	b, _ := json.Marshal(hostileSpec{Dir: d.dir, Out: out})
	if err := os.WriteFile(spec, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// The spec is read at the next power-on of the normal world.
	d.stop()
	d.start()
	var attempts []confine.Attempt
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(out + ".tmp")
		if err == nil && json.Unmarshal(b, &attempts) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hostile normal world reported nothing: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]bool{"flash.bin": false, "tpm-nv.state": false, "dev-keys": false, "identity": false,
		"/mem": false, "/environ": false, "ptrace": false, "process_vm_readv": false}
	for _, a := range attempts {
		for k := range want {
			if strings.Contains(a.What, k) {
				want[k] = true
			}
		}
		if !a.Refused() {
			t.Errorf("%s: not refused (%s)", a.What, orSucceeded(a.Err))
		} else {
			t.Logf("%s: %s", a.What, a.Err)
		}
	}
	for k, tried := range want {
		if !tried {
			t.Errorf("no attempt on %s", k)
		}
	}
}

func orSucceeded(err string) string {
	if err == "" {
		return "it succeeded"
	}
	return err
}

// TestStatusSaysConfinement: `device status` of a running device says
// which confinements hold its normal world, as the supervisor checked
// them against the kernel (on this kernel, run as root: all of them);
// the start-up log says so too; a device that is off says nothing of it.
func TestStatusSaysConfinement(t *testing.T) {
	t.Parallel()
	d := startDevice(t, "true")
	var doc struct {
		Confinement *confine.Report `json:"confinement"`
	}
	for range 100 { // the supervisor records it as the normal world starts
		out, e, code := teeup(t, "device", "status", "--dir", d.dir, "--json")
		if code != 0 {
			t.Fatalf("device status: exit %d\n%s%s", code, out, e)
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Confinement != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if doc.Confinement == nil {
		t.Fatal("device status --json says nothing of the normal world's confinement")
	}
	if os.Geteuid() == 0 && !doc.Confinement.Complete() {
		t.Errorf("confinement %s: missing %v", doc.Confinement, doc.Confinement.Missing())
	}
	text, _, _ := teeup(t, "device", "status", "--dir", d.dir)
	if !strings.Contains(text, "normal world confinement: landlock") {
		t.Errorf("device status does not say the confinement:\n%s", text)
	}
	if !strings.Contains(d.log.String(), `msg="normal world confined"`) {
		t.Errorf("the start-up log does not say the confinement:\n%s", d.log.String())
	}
	d.stop()
	out, _, _ := teeup(t, "device", "status", "--dir", d.dir, "--json")
	doc.Confinement = nil
	if json.Unmarshal([]byte(out), &doc); doc.Confinement != nil {
		t.Errorf("a device that is off reports a confinement: %s", doc.Confinement)
	}
}
