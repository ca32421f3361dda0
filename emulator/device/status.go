package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/service"
)

// OfflineStatus reads the status of the device in dir, which is off, as
// its secure world reports it (service.DeviceStatus), from a copy of its
// flash and TPM state in a temporary directory: nothing in dir is created
// or changed, where opening the device itself would (the TPM saves its
// state on power-on, a missing flash or TPM state is made anew, and
// closing writes state.json). A device whose configuration, flash or TPM
// state is missing is an error wrapping fs.ErrNotExist.
func OfflineStatus(ctx context.Context, dir string) (st *ipc.DeviceStatusResult, err error) {
	tmp, err := os.MkdirTemp("", "teeup-status-*")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
	if err := copyDevice(dir, tmp); err != nil {
		return nil, fmt.Errorf("device: %s: %w", dir, err)
	}
	d, err := Open(tmp)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, d.Close()) }()
	return service.DeviceStatus(ctx, d.Boot, d.Store)
}

// copyDevice copies what the secure world reads of a device: its
// configuration, its flash and its TPM's state.
func copyDevice(dir, to string) error {
	for _, name := range []string{configFile, flashFile} {
		if err := copyFile(filepath.Join(dir, name), filepath.Join(to, name)); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(to, tpmDir), 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(dir, tpmDir))
	if err != nil {
		return err
	}
	copied := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "lock" {
			continue
		}
		if err := copyFile(filepath.Join(dir, tpmDir, e.Name()), filepath.Join(to, tpmDir, e.Name())); err != nil {
			return err
		}
		copied++
	}
	if copied == 0 {
		return fmt.Errorf("%w: no TPM state in %s", os.ErrNotExist, filepath.Join(dir, tpmDir))
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close() //nolint:errcheck // read only: nothing is lost if closing fails
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return errors.Join(err, dst.Close())
}

// LoadState reads the emulator's state.json of dir, changing nothing; a
// device that has none yet has the zero State.
func LoadState(dir string) (State, error) {
	var st State
	if err := readJSON(filepath.Join(dir, stateFile), &st); err != nil && !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	return st, nil
}

// Running reports whether a supervisor runs the device in dir: it holds
// the run lock. Unlike a new run, it leaves a stale lock as it is.
func Running(dir string) bool {
	f, err := os.Open(filepath.Join(dir, pidFile))
	if err != nil {
		return false
	}
	defer f.Close() //nolint:errcheck // read only; closing also drops the shared lock taken below
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}
