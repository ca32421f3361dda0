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
		v, err := tp.Counter(testIndex)
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
		if err := tp.IncrementCounter(testIndex); err != nil {
			fmt.Println("increment:", err)
			return 1
		}
		v, _ := tp.Counter(testIndex)
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

func wantCounter(t *testing.T, tp *TPM, index uint32, want uint64) {
	t.Helper()
	got, err := tp.Counter(index)
	if err != nil {
		t.Fatalf("Counter(%#x): %v", index, err)
	}
	if got != want {
		t.Fatalf("Counter(%#x) = %d, want %d", index, got, want)
	}
}

func TestCounterDefineIncrementRead(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	wantCounter(t, tp, testIndex, 0)
	for want := uint64(1); want <= 3; want++ {
		if err := tp.IncrementCounter(testIndex); err != nil {
			t.Fatalf("IncrementCounter: %v", err)
		}
		wantCounter(t, tp, testIndex, want)
	}

	// A second counter is independent of the first.
	const other = testIndex + 1
	if err := tp.DefineCounter(other); err != nil {
		t.Fatalf("DefineCounter(other): %v", err)
	}
	if err := tp.IncrementCounter(other); err != nil {
		t.Fatalf("IncrementCounter(other): %v", err)
	}
	wantCounter(t, tp, other, 1)
	wantCounter(t, tp, testIndex, 3)
}

func TestCounterErrors(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	// An ordinary NV index, made through the raw transport.
	const ordinary = 0x01500020
	_, err := tpm2.NVDefineSpace{
		AuthHandle: platformAuth(),
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex:    ordinary,
			NameAlg:    tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{PPWrite: true, PPRead: true, PlatformCreate: true, NT: tpm2.TPMNTOrdinary},
			DataSize:   8,
		}),
	}.Execute(tp.Transport())
	if err != nil {
		t.Fatalf("define ordinary index: %v", err)
	}

	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"define twice", func() error { return tp.DefineCounter(testIndex) }, ErrCounterExists},
		{"define over ordinary index", func() error { return tp.DefineCounter(ordinary) }, ErrCounterExists},
		{"read undefined", func() error { _, err := tp.Counter(testIndex + 7); return err }, ErrCounterUndefined},
		{"increment undefined", func() error { return tp.IncrementCounter(testIndex + 7) }, ErrCounterUndefined},
		{"advance undefined", func() error { return tp.AdvanceCounterTo(testIndex+7, 1) }, ErrCounterUndefined},
		{"read ordinary index", func() error { _, err := tp.Counter(ordinary); return err }, ErrNotCounter},
		{"increment ordinary index", func() error { return tp.IncrementCounter(ordinary) }, ErrNotCounter},
		{"define non-NV handle", func() error { return tp.DefineCounter(0x81000001) }, ErrInvalidArgument},
		{"read non-NV handle", func() error { _, err := tp.Counter(0x40000001); return err }, ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	wantCounter(t, tp, testIndex, 0)
}

func TestAdvanceCounterTo(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	steps := []struct {
		name    string
		to      uint64
		wantErr error
		want    uint64
	}{
		{"never-written counter to 0 is a no-op", 0, nil, 0},
		{"first advance", 5, nil, 5},
		{"same value is a no-op", 5, nil, 5},
		{"backward refused", 4, ErrCounterBackward, 5},
		{"zero refused", 0, ErrCounterBackward, 5},
		{"forward again", 9, nil, 9},
		{"too far refused", 9 + MaxCounterAdvance + 1, ErrAdvanceTooFar, 9},
		{"exactly the limit", 9 + MaxCounterAdvance, nil, 9 + MaxCounterAdvance},
	}
	for _, s := range steps {
		err := tp.AdvanceCounterTo(testIndex, s.to)
		if s.wantErr == nil && err != nil || !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: AdvanceCounterTo(%d) = %v, want %v", s.name, s.to, err, s.wantErr)
		}
		got, err := tp.Counter(testIndex)
		if err != nil {
			t.Fatalf("%s: Counter: %v", s.name, err)
		}
		if got != s.want {
			t.Fatalf("%s: counter = %d, want %d", s.name, got, s.want)
		}
	}
}

func TestExtend(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	d1 := sha256.Sum256([]byte("secure image"))
	d2 := sha256.Sum256([]byte("normal image"))
	want := make([]byte, sha256.Size) // PCR 7 after Startup(CLEAR)
	for _, d := range [][32]byte{d1, d2} {
		if err := tp.Extend(7, d[:]); err != nil {
			t.Fatalf("Extend: %v", err)
		}
		next := sha256.Sum256(append(want, d[:]...))
		want = next[:]
		got, err := tp.ReadPCR(7)
		if err != nil {
			t.Fatalf("ReadPCR: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("PCR 7 = %x, want %x", got, want)
		}
	}
	// Other PCRs are untouched.
	if got, err := tp.ReadPCR(8); err != nil || !bytes.Equal(got, make([]byte, 32)) {
		t.Fatalf("PCR 8 = %x, %v; want zero", got, err)
	}

	bad := []struct {
		name   string
		pcr    int
		digest []byte
	}{
		{"negative PCR", -1, d1[:]},
		{"PCR past the bank", NumPCRs, d1[:]},
		{"short digest", 0, d1[:31]},
		{"long digest", 0, append(d1[:], 0)},
		{"SHA-1 sized digest", 0, d1[:20]},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := tp.Extend(tc.pcr, tc.digest); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("Extend = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if _, err := tp.ReadPCR(NumPCRs); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ReadPCR(%d) = %v, want ErrInvalidArgument", NumPCRs, err)
	}
	// The reference TPM keeps PCR 17 for locality 4.
	if err := tp.Extend(17, d1[:]); !errors.Is(err, tpm2.TPMRCLocality) {
		t.Fatalf("Extend(17) = %v, want TPM_RC_LOCALITY", err)
	}
}

func TestResetClearsPCRsKeepsCounters(t *testing.T) {
	tp := openTPM(t, t.TempDir())
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	if err := tp.AdvanceCounterTo(testIndex, 3); err != nil {
		t.Fatalf("AdvanceCounterTo: %v", err)
	}
	d := sha256.Sum256([]byte("measurement"))
	pcrs := []int{0, 7, 16, 23}
	for _, p := range pcrs {
		if err := tp.Extend(p, d[:]); err != nil {
			t.Fatalf("Extend(%d): %v", p, err)
		}
	}

	if err := tp.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}

	for _, p := range pcrs {
		got, err := tp.ReadPCR(p)
		if err != nil {
			t.Fatalf("ReadPCR(%d): %v", p, err)
		}
		if !bytes.Equal(got, make([]byte, sha256.Size)) {
			t.Errorf("PCR %d after Reset = %x, want zero", p, got)
		}
	}
	if got, err := tp.ReadPCR(17); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{0xff}, sha256.Size)) {
		t.Errorf("PCR 17 after Reset = %x, %v; want all 0xFF", got, err)
	}
	wantCounter(t, tp, testIndex, 3)
	// Still a working counter after the power cycle.
	if err := tp.IncrementCounter(testIndex); err != nil {
		t.Fatalf("IncrementCounter: %v", err)
	}
	wantCounter(t, tp, testIndex, 4)
}

// primaryKey creates the owner hierarchy's ECC storage primary, which the TPM
// derives from its owner seed, and returns its public area.
func primaryKey(t *testing.T, tp *TPM) []byte {
	t.Helper()
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tp.Transport())
	if err != nil {
		t.Fatalf("CreatePrimary: %v", err)
	}
	if _, err := (tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}).Execute(tp.Transport()); err != nil {
		t.Fatalf("FlushContext: %v", err)
	}
	return rsp.OutPublic.Bytes()
}

func TestReopenKeepsState(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	if err := tp.AdvanceCounterTo(testIndex, 7); err != nil {
		t.Fatalf("AdvanceCounterTo: %v", err)
	}
	d := sha256.Sum256([]byte("measurement"))
	if err := tp.Extend(0, d[:]); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	key := primaryKey(t, tp)
	mustClose(t, tp)

	tp = openTPM(t, dir)
	wantCounter(t, tp, testIndex, 7)
	if err := tp.AdvanceCounterTo(testIndex, 6); !errors.Is(err, ErrCounterBackward) {
		t.Fatalf("AdvanceCounterTo(6) after reopen = %v, want ErrCounterBackward", err)
	}
	if got, err := tp.ReadPCR(0); err != nil || !bytes.Equal(got, make([]byte, sha256.Size)) {
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
	if _, err := tp.Counter(testIndex); !errors.Is(err, ErrCounterUndefined) {
		t.Fatalf("Counter on a new device = %v, want ErrCounterUndefined", err)
	}
}

func TestCrossProcess(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	if err := tp.AdvanceCounterTo(testIndex, 4); err != nil {
		t.Fatalf("AdvanceCounterTo: %v", err)
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
			if err := tp.DefineCounter(testIndex); err != nil {
				t.Fatalf("DefineCounter: %v", err)
			}
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
	tr := tp.Transport()
	mustClose(t, tp)
	d := sha256.Sum256(nil)
	ops := []struct {
		name string
		op   func() error
	}{
		{"Close", tp.Close},
		{"Reset", tp.Reset},
		{"DefineCounter", func() error { return tp.DefineCounter(testIndex) }},
		{"Counter", func() error { _, err := tp.Counter(testIndex); return err }},
		{"IncrementCounter", func() error { return tp.IncrementCounter(testIndex) }},
		{"AdvanceCounterTo", func() error { return tp.AdvanceCounterTo(testIndex, 1) }},
		{"Extend", func() error { return tp.Extend(0, d[:]) }},
		{"ReadPCR", func() error { _, err := tp.ReadPCR(0); return err }},
		{"Transport", func() error { _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(tr); return err }},
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
	if err := tp.DefineCounter(testIndex); err != nil {
		t.Fatalf("DefineCounter: %v", err)
	}
	before := stat()
	for range 3 {
		if _, err := tp.ReadPCR(0); err != nil {
			t.Fatalf("ReadPCR: %v", err)
		}
	}
	if !os.SameFile(stat(), before) {
		t.Fatalf("reads rewrote the state file")
	}
	if err := tp.IncrementCounter(testIndex); err != nil {
		t.Fatalf("IncrementCounter: %v", err)
	}
	if os.SameFile(stat(), before) {
		t.Fatalf("increment did not rewrite the state file")
	}
}
