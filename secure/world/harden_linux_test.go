package world

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

const hardenChildEnv = "SECURE_WORLD_HARDEN_CHILD"

// TestHarden: after Harden the process is not dumpable and its core
// size limit is 0, hard and soft; it runs in a child, which it changes
// for good.
func TestHarden(t *testing.T) {
	if os.Getenv(hardenChildEnv) == "1" {
		if _, err := Harden(); err != nil {
			t.Fatal(err)
		}
		dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil || dumpable != 0 {
			t.Fatalf("dumpable = %d, %v; want 0", dumpable, err)
		}
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 || lim.Max != 0 {
			t.Fatalf("RLIMIT_CORE = %+v, %v; want 0, 0", lim, err)
		}
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHarden$", "-test.v")
	cmd.Env = append(os.Environ(), hardenChildEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hardened child: %v\n%s", err, out)
	}
}
