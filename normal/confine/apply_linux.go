package confine

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Policy is what the confined process keeps.
type Policy struct {
	// Spool is the one directory it may write and read beneath: its
	// downloads and the files the operator hands it.
	Spool string
	// UID and GID are the user a process started as root becomes.
	UID, GID int
	// NoSeccomp leaves the seccomp filter out (the report says so): only
	// to measure what the filter costs.
	NoSeccomp bool
}

// Nobody is the user a normal world started as root becomes.
const Nobody = 65534

// systemDirs are what the normal world and the health command it runs
// read and execute: programs, libraries, and /etc (name resolution, CA
// certificates, the time zone). None of it is the secure world's.
var systemDirs = []string{"/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/etc"}

// Apply confines the calling process, every thread of it, for good:
// Landlock, an unprivileged user, no_new_privs and the seccomp filter,
// in that order (the user changes before the filter, which refuses
// nothing it needs). A measure the kernel does not offer is left out
// and reported; an error is returned only when a measure the kernel
// offers fails half way, and then the process must not go on.
func Apply(p Policy) (*Report, error) {
	r := &Report{}
	if err := restrictPaths(r, p.Spool); err != nil {
		return r, err
	}
	if err := dropUser(r, p.UID, p.GID); err != nil {
		return r, err
	}
	if err := loadSeccomp(r, p.NoSeccomp); err != nil {
		return r, err
	}
	return r, nil
}

// restrictPaths is Landlock's filesystem and scope restriction, at the
// highest ABI both the kernel and go-landlock know (best effort: an
// older kernel enforces what it can, none on a kernel without Landlock).
func restrictPaths(r *Report, spool string) error {
	abi, err := llsys.LandlockGetABIVersion()
	if err != nil || abi < 1 {
		r.add(Landlock, false, fmt.Sprintf("the kernel offers no Landlock: %v", err))
		r.add(Scoped, false, "the kernel offers no Landlock")
		return nil
	}
	rules := []landlock.Rule{
		landlock.RODirs(systemDirs...).IgnoreIfMissing(),
		landlock.RWFiles("/dev/null"),
		landlock.RWDirs(spool),
	}
	if err := landlock.V7.BestEffort().RestrictPaths(rules...); err != nil {
		return fmt.Errorf("confine: landlock: %w", err)
	}
	used := min(abi, 7)
	r.add(Landlock, true, fmt.Sprintf("ABI %d of the kernel's %d: read-write beneath the spool only, read-only %v", used, abi, systemDirs))
	if abi < 6 {
		r.add(Scoped, false, fmt.Sprintf("needs Landlock ABI 6, the kernel offers %d", abi))
		return nil
	}
	if err := landlock.V7.BestEffort().RestrictScoped(); err != nil {
		return fmt.Errorf("confine: landlock scope: %w", err)
	}
	r.add(Scoped, true, "no signals to, nor abstract sockets of, processes outside its domain")
	return nil
}

// dropUser makes a process started as root the unprivileged user uid,
// in every thread (Go's setuid changes them all), with no supplementary
// groups; the kernel then marks it not dumpable.
func dropUser(r *Report, uid, gid int) error {
	if os.Geteuid() != 0 {
		// Not root: nothing to drop to, and it shares its user with the
		// secure world, which the other measures must then hold apart.
		r.add(User, false, fmt.Sprintf("started as uid %d, not root: no user of its own", os.Geteuid()))
		return nil
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("confine: setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("confine: setgid %d: %w", gid, err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("confine: setuid %d: %w", uid, err)
	}
	if os.Geteuid() != uid || os.Getuid() != uid {
		return fmt.Errorf("confine: still uid %d after setuid %d", os.Geteuid(), uid)
	}
	r.add(User, true, fmt.Sprintf("root dropped to uid %d gid %d", uid, gid))
	return nil
}

// loadSeccomp sets no_new_privs and loads the filter on every thread
// (TSYNC).
func loadSeccomp(r *Report, skip bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		r.add(NoNewPrivs, false, err.Error())
		r.add(Seccomp, false, "needs no_new_privs")
		return nil
	}
	r.add(NoNewPrivs, true, "")
	if skip {
		r.add(Seccomp, false, "left out by the policy, to measure its cost")
		return nil
	}
	if err := installFilter(); err != nil {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			r.add(Seccomp, false, fmt.Sprintf("the kernel refuses the filter: %v", err))
			return nil
		}
		return fmt.Errorf("confine: seccomp: %w", err)
	}
	r.add(Seccomp, true, fmt.Sprintf("deny-list: %d system calls refused with EPERM", len(Denied)))
	return nil
}
