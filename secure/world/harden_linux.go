package world

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Harden is the first thing the secure world's process does: it makes
// itself not dumpable, so that no process of another user, nor one of
// its own without CAP_SYS_PTRACE, may ptrace it or open its
// /proc/PID/mem, environ or maps, and a crash writes no core with its
// keys in it (RLIMIT_CORE 0, which also holds for the children it
// never starts). It returns what it put in force.
func Harden() (string, error) {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return "", fmt.Errorf("secure world: not dumpable: %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return "", fmt.Errorf("secure world: no core dumps: %w", err)
	}
	return "not dumpable, no core dumps", nil
}
