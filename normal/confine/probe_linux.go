package confine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attempt is one thing a hostile normal world tried, and how the kernel
// answered: Err is empty if the attempt succeeded.
type Attempt struct {
	What  string `json:"what"`
	Err   string `json:"err,omitempty"`
	Errno int    `json:"errno,omitempty"`
}

// Refused reports whether the kernel refused the attempt for want of
// permission (EACCES or EPERM), which is the only answer a confined
// normal world may get.
func (a Attempt) Refused() bool {
	return a.Errno == int(unix.EACCES) || a.Errno == int(unix.EPERM)
}

// Targets are what a hostile normal world goes after.
type Targets struct {
	// Paths are files and directories of the secure world: each is
	// opened for reading and for writing, and a directory is listed.
	Paths []string `json:"paths"`
	// Create are paths where a new file is created.
	Create []string `json:"create"`
	// SecurePID is the secure world's process.
	SecurePID int `json:"secure_pid"`
	// SecureAddr is an address mapped in the secure world (its text).
	SecureAddr uintptr `json:"secure_addr"`
}

// Probe makes every attempt on t and says how each ended. It changes
// nothing that an attempt that succeeds would not (a ptrace attach that
// succeeds is detached at once).
func Probe(t Targets) []Attempt {
	var out []Attempt
	try := func(what string, err error) {
		a := Attempt{What: what}
		if err != nil {
			a.Err = err.Error()
			var errno syscall.Errno
			if errors.As(err, &errno) {
				a.Errno = int(errno)
			}
		}
		out = append(out, a)
	}
	for _, p := range t.Paths {
		try("open "+p+" for reading", readSome(p))
		try("open "+p+" for writing", openWrite(p))
	}
	for _, p := range t.Create {
		try("create "+p, create(p))
	}
	pid := t.SecurePID
	proc := filepath.Join("/proc", fmt.Sprint(pid))
	try("read "+proc+"/mem", readMem(proc+"/mem", t.SecureAddr))
	try("read "+proc+"/environ", readSome(proc+"/environ"))
	try("read "+proc+"/maps", readSome(proc+"/maps"))
	try(fmt.Sprintf("ptrace attach %d", pid), ptraceAttach(pid))
	try(fmt.Sprintf("process_vm_readv %d", pid), vmRead(pid, t.SecureAddr))
	try(fmt.Sprintf("process_vm_writev %d", pid), vmWrite(pid, t.SecureAddr))
	try(fmt.Sprintf("pidfd_getfd %d", pid), pidfdGetfd(pid))
	return out
}

func readSome(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return unwrapPath(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		_, err = f.Readdirnames(1)
		return unwrapPath(err)
	}
	if _, err = f.Read(make([]byte, 16)); errors.Is(err, io.EOF) {
		return nil // opened and read: empty
	}
	return unwrapPath(err)
}

func openWrite(p string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EISDIR) {
		// A directory: try to make something in it.
		return create(filepath.Join(p, "probe"))
	}
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func create(p string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err == nil {
		unix.Close(fd)
		_ = unix.Unlink(p) // the planted file, if planting succeeded: the attempt is what counts
	}
	return err
}

func readMem(p string, addr uintptr) error {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	_, err = unix.Pread(fd, make([]byte, 16), int64(addr))
	return err
}

// ptraceAttach seizes pid; one that succeeds is stopped and let go at
// once (a tracee must be stopped to be detached).
func ptraceAttach(pid int) error {
	if err := unix.PtraceSeize(pid); err != nil {
		return err
	}
	// Best effort: the attempt succeeded, which is what the probe says.
	_ = unix.PtraceInterrupt(pid)
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, unix.WALL, nil)
	_ = unix.PtraceDetach(pid)
	return nil
}

func vmRead(pid int, addr uintptr) error {
	buf := make([]byte, 16)
	local := []unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := []unix.RemoteIovec{{Base: addr, Len: len(buf)}}
	_, err := unix.ProcessVMReadv(pid, local, remote, 0)
	return err
}

// vmWrite writes back the byte that is there (read first), into the
// secure world's text, which is read-only: even a write the kernel lets
// through changes nothing. A zero-length write would prove nothing (the
// kernel returns before it checks).
func vmWrite(pid int, addr uintptr) error {
	b := []byte{0} // what is there, if the read is let through; else a 0 into read-only text
	_, _ = unix.ProcessVMReadv(pid, []unix.Iovec{{Base: &b[0], Len: 1}}, []unix.RemoteIovec{{Base: addr, Len: 1}}, 0)
	_, err := unix.ProcessVMWritev(pid, []unix.Iovec{{Base: &b[0], Len: 1}}, []unix.RemoteIovec{{Base: addr, Len: 1}}, 0)
	return err
}

func pidfdGetfd(pid int) error {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	fd, err := unix.PidfdGetfd(pfd, 0, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
