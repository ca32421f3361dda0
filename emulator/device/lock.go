package device

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidFile is the run lock of a device directory: the supervisor that runs
// the device holds an exclusive flock on it and has its PID written in
// it. The kernel drops the lock when the supervisor dies however it dies,
// so a file left by a dead supervisor is stale, and whoever finds it
// unlocked may clear it.
const pidFile = "run.pid"

// ErrRunning is returned when another supervisor runs the device.
var ErrRunning = errors.New("device: already running")

// ErrNotRunning is returned when no supervisor runs the device.
var ErrNotRunning = errors.New("device: not running")

// RunningError says which process runs the device.
type RunningError struct {
	Dir string
	PID int // 0 if it has not written its PID yet
}

func (e *RunningError) Error() string {
	return fmt.Sprintf("device %s is already running: supervisor process %d holds %s", e.Dir, e.PID, filepath.Join(e.Dir, pidFile))
}

func (e *RunningError) Unwrap() error { return ErrRunning }

// runLock is a held run lock.
type runLock struct {
	f    *os.File
	path string
}

// lockRun takes the run lock of dir for this process, or says who holds it.
func lockRun(dir string) (*runLock, error) {
	path := filepath.Join(dir, pidFile)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("device: lock %s: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			pid := readPID(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &RunningError{Dir: dir, PID: pid}
			}
			return nil, fmt.Errorf("device: lock %s: %w", dir, err)
		}
		// The holder we waited out may have removed the file as it
		// released it: a lock on the removed file excludes nobody.
		if sameFile(f, path) {
			l := &runLock{f: f, path: path}
			// Whatever the file holds is a dead supervisor's: clear it.
			if err := l.writePID(); err != nil {
				l.release()
				return nil, err
			}
			return l, nil
		}
		f.Close()
	}
}

func (l *runLock) writePID() error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// release removes the file while it still holds the lock, then drops it.
func (l *runLock) release() {
	os.Remove(l.path)
	l.f.Close()
}

// runningPID is the PID of the supervisor that holds dir's run lock. A
// stale run.pid (its supervisor died) is removed: ErrNotRunning.
func runningPID(dir string) (int, error) {
	path := filepath.Join(dir, pidFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s has no %s", ErrNotRunning, dir, pidFile)
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); {
	case errors.Is(err, syscall.EWOULDBLOCK):
		pid := readPID(f)
		if pid <= 0 {
			return 0, fmt.Errorf("device: %s is locked but names no process", path)
		}
		return pid, nil
	case err != nil:
		return 0, err
	}
	if sameFile(f, path) {
		os.Remove(path)
	}
	return 0, fmt.Errorf("%w: %s was left by a supervisor that died (cleared)", ErrNotRunning, path)
}

func readPID(f *os.File) int {
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, 32))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// sameFile reports whether the open f is still the file at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
