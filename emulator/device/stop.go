package device

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Stop asks the device running in dir to stop in order (SIGTERM, as
// Ctrl-C does) and waits until its supervisor has let go of the run lock,
// so that the device can be opened or run again at once, or until ctx
// ends. A device that is not running is ErrNotRunning.
func Stop(ctx context.Context, dir string) error {
	pid, err := runningPID(dir)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	for {
		if _, err := runningPID(dir); errors.Is(err, ErrNotRunning) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Exists reports whether dir holds a device that Init made.
func Exists(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, configFile))
	return err == nil && st.Mode().IsRegular()
}
