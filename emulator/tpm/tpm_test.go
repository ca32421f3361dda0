package tpm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The simulator is one per process: no test here calls t.Parallel, and each
// closes what it opens.

const testIndex = 0x01500010

// Child modes, chosen by environment when the test binary re-executes itself
// to play a second emulator process.
const (
	envChild = "TEEUP_TPM_TEST_CHILD"
	envDir   = "TEEUP_TPM_TEST_DIR"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode, os.Getenv(envDir)))
	}
	os.Exit(m.Run())
}

// child prints one line for the parent and returns the exit code.
func child(mode, dir string) int {
	tp, err := Open(dir)
	if err != nil {
		if errors.Is(err, ErrBusy) {
			fmt.Println("busy")
			return 0
		}
		fmt.Println("open:", err)
		return 1
	}
	switch mode {
	case "read":
		v, err := counterValue(tp, testIndex)
		if err != nil {
			fmt.Println("counter:", err)
			return 1
		}
		fmt.Println(v)
		if err := tp.Close(); err != nil {
			fmt.Println("close:", err)
			return 1
		}
		return 0
	case "increment-and-die":
		if err := incrementCounter(tp, testIndex); err != nil {
			fmt.Println("increment:", err)
			return 1
		}
		v, _ := counterValue(tp, testIndex)
		fmt.Println(v)
		return 0 // no Close: the process just ends, as if killed
	}
	fmt.Println("unknown mode", mode)
	return 1
}

func runChild(t *testing.T, mode, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	// Under -race, a process waits a second at exit for late race reports
	// unless told not to.
	cmd.Env = append(os.Environ(), envChild+"="+mode, envDir+"="+dir, "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	return strings.TrimSpace(string(out))
}

func openTPM(t *testing.T, dir string) *TPM {
	t.Helper()
	if !haveSimulator {
		t.Skip("the reference TPM needs cgo")
	}
	tp, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := tp.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return tp
}

func mustClose(t *testing.T, tp *TPM) {
	t.Helper()
	if err := tp.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestResetClearsPCRsKeepsNV: a power cut clears the PCRs and keeps NV
// (a counter here).
func TestResetClearsPCRsKeepsNV(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	mustDefineCounter(t, tp, testIndex)
	for range 3 {
		mustIncrement(t, tp, testIndex)
	}
	d := sha256.Sum256([]byte("measurement"))
	pcrs := []int{0, 7, 16, 23}
	for _, p := range pcrs {
		mustExtend(t, tp, p, d[:])
	}

	if err := tp.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}

	for _, p := range pcrs {
		got, err := readPCR(tp, p)
		if err != nil {
			t.Fatalf("read PCR %d: %v", p, err)
		}
		if !bytes.Equal(got, make([]byte, sha256.Size)) {
			t.Errorf("PCR %d after Reset = %x, want zero", p, got)
		}
	}
	if got, err := readPCR(tp, 17); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{0xff}, sha256.Size)) {
		t.Errorf("PCR 17 after Reset = %x, %v; want all 0xFF", got, err)
	}
	wantCounter(t, tp, testIndex, 3)
	// Still a working counter after the power cycle.
	mustIncrement(t, tp, testIndex)
	wantCounter(t, tp, testIndex, 4)
}

// primaryKey creates the owner hierarchy's ECC storage primary, which the TPM
// derives from its owner seed, and returns its public area.
func primaryKey(t *testing.T, tp *TPM) []byte {
	t.Helper()
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tp)
	if err != nil {
		t.Fatalf("CreatePrimary: %v", err)
	}
	if _, err := (tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}).Execute(tp); err != nil {
		t.Fatalf("FlushContext: %v", err)
	}
	return rsp.OutPublic.Bytes()
}

func TestReopenKeepsState(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	mustDefineCounter(t, tp, testIndex)
	for range 7 {
		mustIncrement(t, tp, testIndex)
	}
	d := sha256.Sum256([]byte("measurement"))
	mustExtend(t, tp, 0, d[:])
	key := primaryKey(t, tp)
	mustClose(t, tp)

	tp = openTPM(t, dir)
	wantCounter(t, tp, testIndex, 7)
	if got, err := readPCR(tp, 0); err != nil || !bytes.Equal(got, make([]byte, sha256.Size)) {
		t.Fatalf("PCR 0 after reopen = %x, %v; want zero", got, err)
	}
	// The seeds are part of the saved NV: the same primary key comes back.
	if got := primaryKey(t, tp); !bytes.Equal(got, key) {
		t.Fatalf("primary key changed across reopen")
	}
	mustClose(t, tp)

	// A different directory is a different device.
	tp = openTPM(t, t.TempDir())
	if got := primaryKey(t, tp); bytes.Equal(got, key) {
		t.Fatalf("two devices share a primary key")
	}
	if _, err := counterValue(tp, testIndex); !errors.Is(err, tpm2.TPMRCHandle) {
		t.Fatalf("counter on a new device = %v, want TPM_RC_HANDLE", err)
	}
}

func TestCrossProcess(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	mustDefineCounter(t, tp, testIndex)
	for range 4 {
		mustIncrement(t, tp, testIndex)
	}
	// While this process holds dir, another emulator process may not.
	if got := runChild(t, "read", dir); got != "busy" {
		t.Fatalf("child opening a held dir said %q, want busy", got)
	}
	mustClose(t, tp)

	if got := runChild(t, "read", dir); got != "4" {
		t.Fatalf("child read %q, want 4", got)
	}
	// A process that dies right after an increment, with no Close, has
	// still saved it.
	if got := runChild(t, "increment-and-die", dir); got != "5" {
		t.Fatalf("child incremented to %q, want 5", got)
	}
	tp = openTPM(t, dir)
	wantCounter(t, tp, testIndex, 5)
}

func TestOpenBusy(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	if second, err := Open(t.TempDir()); !errors.Is(err, ErrBusy) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Open = %v, want ErrBusy", err)
	}
	mustClose(t, tp)
	// Closing frees the simulator for the next Open.
	mustClose(t, openTPM(t, t.TempDir()))
}

func TestCorruptStateRefused(t *testing.T) {
	tests := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"flipped image bit", func(b []byte) []byte { b[len(b)-100] ^= 1; return b }},
		{"flipped checksum bit", func(b []byte) []byte { b[len(stateMagic)+4] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"extended", func(b []byte) []byte { return append(b, 0) }},
		{"empty", func([]byte) []byte { return nil }},
		{"other magic", func(b []byte) []byte { b[len(stateMagic)-1]++; return b }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tp := openTPM(t, dir)
			mustDefineCounter(t, tp, testIndex)
			mustClose(t, tp)

			path := filepath.Join(dir, stateFileName)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tc.damage(b)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if tp, err := Open(dir); !errors.Is(err, ErrStateCorrupt) {
				if tp != nil {
					tp.Close()
				}
				t.Fatalf("Open = %v, want ErrStateCorrupt", err)
			}
			// The damaged file is left for inspection, never replaced by
			// a fresh TPM.
			after, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(after, damaged) {
				t.Fatalf("state file changed by a refused Open (%v)", err)
			}
			// And the simulator is free again.
			mustClose(t, openTPM(t, t.TempDir()))
		})
	}
}

func TestUseAfterClose(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	mustClose(t, tp)
	ops := []struct {
		name string
		op   func() error
	}{
		{"Close", tp.Close},
		{"Reset", tp.Reset},
		{"Send", func() error { _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(tp); return err }},
		{"Batch", func() error { return tp.Batch(func(transport.TPM) error { return nil }) }},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			if err := o.op(); !errors.Is(err, ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", o.name, err)
			}
		})
	}
}

func TestStateSavedOnlyOnChange(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	path := filepath.Join(dir, stateFileName)
	// Every save renames a new file into place, so an unchanged file is
	// the same inode.
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	mustDefineCounter(t, tp, testIndex)
	before := stat()
	for range 3 {
		if _, err := readPCR(tp, 0); err != nil {
			t.Fatalf("read PCR: %v", err)
		}
	}
	if !os.SameFile(stat(), before) {
		t.Fatalf("reads rewrote the state file")
	}
	mustIncrement(t, tp, testIndex)
	if os.SameFile(stat(), before) {
		t.Fatalf("increment did not rewrite the state file")
	}
}

// TestBatchSavesOnce: the commands of a batch reach the TPM as they are
// sent, but the state file is written once, after the batch.
func TestBatchSavesOnce(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	mustDefineCounter(t, tp, testIndex)
	path := filepath.Join(dir, stateFileName)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	err = tp.Batch(func(tr transport.TPM) error {
		for range 3 {
			if err := incrementCounter(tr, testIndex); err != nil {
				return err
			}
			if fi, err := os.Stat(path); err != nil || !os.SameFile(fi, before) {
				t.Errorf("the state file was saved inside the batch (%v)", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || os.SameFile(fi, before) {
		t.Fatalf("the state file was not saved after the batch (%v)", err)
	}
	wantCounter(t, tp, testIndex, 3)
}
