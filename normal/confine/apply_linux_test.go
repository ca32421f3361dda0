package confine_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/normal/confine"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a confined child: it applies the policy
// in the spec and reports what it could and could not do.
const childEnv = "CONFINE_TEST_CHILD"

type childSpec struct {
	Spool  string `json:"spool"`
	Target string `json:"target"` // readable by anyone by its mode: only Landlock refuses it
	Parent int    `json:"parent"`
}

type childResult struct {
	Report      *confine.Report `json:"report"`
	ApplyErr    string          `json:"apply_err,omitempty"`
	SpoolWrite  string          `json:"spool_write,omitempty"` // errors; empty: it worked
	EtcRead     string          `json:"etc_read,omitempty"`
	SecretRead  int             `json:"secret_read"` // errno
	PtraceErrno int             `json:"ptrace_errno"`
	VMReadErrno int             `json:"vm_read_errno"`
	VictimErr   string          `json:"victim_err,omitempty"`
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		runChild(spec)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func errnoOf(err error) int {
	var e unix.Errno
	if errors.As(err, &e) {
		return int(e)
	}
	return 0
}

func runChild(raw string) {
	var spec childSpec
	json.Unmarshal([]byte(raw), &spec)
	var res childResult
	r, err := confine.Apply(confine.Policy{Spool: spec.Spool, UID: confine.Nobody, GID: confine.Nobody})
	res.Report = r
	if err != nil {
		res.ApplyErr = err.Error()
	}
	if err := os.WriteFile(filepath.Join(spec.Spool, "download"), []byte("x"), 0o600); err != nil {
		res.SpoolWrite = err.Error()
	}
	if _, err := os.ReadFile("/etc/hosts"); err != nil {
		res.EtcRead = err.Error()
	}
	_, err = os.ReadFile(spec.Target)
	res.SecretRead = errnoOf(err)
	// A child of its own, of its own user and domain, which the kernel
	// alone would let it trace: only the filter refuses.
	victim := exec.Command("/bin/sleep", "30")
	if err := victim.Start(); err != nil {
		res.VictimErr = err.Error()
	} else {
		err := unix.PtraceSeize(victim.Process.Pid)
		res.PtraceErrno = errnoOf(err)
		if err == nil {
			res.PtraceErrno = -1 // it succeeded
		}
		b := []byte{0}
		_, err = unix.ProcessVMReadv(victim.Process.Pid, []unix.Iovec{{Base: &b[0], Len: 1}},
			[]unix.RemoteIovec{{Base: 0x400000, Len: 1}}, 0)
		res.VMReadErrno = errnoOf(err)
		victim.Process.Kill()
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// TestApplyConfines: a process confined by Apply keeps what a normal
// world needs (its spool, read and write; the system's files) and loses
// the rest, each measure on its own: a file that its mode lets anyone
// read is refused by Landlock, and ptrace and process_vm_readv of a
// child of its own (same user, same domain: the kernel alone allows
// them) by the seccomp filter. The report says every measure is in force
// on this kernel.
func TestApplyConfines(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the user measure needs root; the others are covered by the device tests")
	}
	base := t.TempDir()
	spool := filepath.Join(base, "spool")
	secret := filepath.Join(base, "secret")
	for _, err := range []error{
		os.Chmod(filepath.Dir(base), 0o755), //nolint:gosec // G302: folders the child's user must look in
		os.Chmod(base, 0o755),               //nolint:gosec // G302: as above
		os.Mkdir(spool, 0o700), os.Chown(spool, confine.Nobody, confine.Nobody),
		os.WriteFile(secret, []byte("key"), 0o644), //nolint:gosec // G306: readable by anyone: only Landlock may refuse it
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	spec, _ := json.Marshal(childSpec{Spool: spool, Target: secret, Parent: os.Getpid()})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	t.Logf("report: %s", res.Report)
	if res.ApplyErr != "" || !res.Report.Complete() {
		t.Errorf("Apply: %s, report incomplete, missing %v", res.ApplyErr, res.Report.Missing())
	}
	if res.SpoolWrite != "" || res.EtcRead != "" {
		t.Errorf("the confinement took what a normal world needs: spool %q, /etc %q", res.SpoolWrite, res.EtcRead)
	}
	if res.SecretRead != int(unix.EACCES) {
		t.Errorf("reading a file outside the spool that anyone may read: errno %d, want EACCES (Landlock)", res.SecretRead)
	}
	if res.VictimErr != "" {
		t.Fatalf("the confined child could not start a process of its own: %s", res.VictimErr)
	}
	if res.PtraceErrno != int(unix.EPERM) || res.VMReadErrno != int(unix.EPERM) {
		t.Errorf("ptrace and process_vm_readv of its own child: errno %d and %d (-1: it succeeded), want EPERM (seccomp)",
			res.PtraceErrno, res.VMReadErrno)
	}
}

// TestReportComplete: a report is complete only with every measure in
// force; Missing names the others.
func TestReportComplete(t *testing.T) {
	t.Parallel()
	all := []string{confine.Landlock, confine.Scoped, confine.User, confine.NoNewPrivs, confine.Seccomp}
	full := &confine.Report{}
	for _, n := range all {
		full.Measures = append(full.Measures, confine.Measure{Name: n, InForce: true})
	}
	if !full.Complete() || len(full.Missing()) != 0 {
		t.Fatalf("full report: complete %v, missing %v", full.Complete(), full.Missing())
	}
	for i, n := range all {
		r := &confine.Report{Measures: append([]confine.Measure(nil), full.Measures...)}
		r.Measures[i].InForce = false
		if r.Complete() || len(r.Missing()) != 1 || r.Missing()[0] != n {
			t.Errorf("without %s: complete %v, missing %v", n, r.Complete(), r.Missing())
		}
		short := &confine.Report{Measures: append(append([]confine.Measure(nil), full.Measures[:i]...), full.Measures[i+1:]...)}
		if short.Complete() {
			t.Errorf("a report that does not name %s is complete", n)
		}
	}
}
