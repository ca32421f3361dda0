package device

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/world"
)

// How a world's process tells its supervisor why it ended: its exit
// status, never the text of an error. A halt's reason, for the person
// who reads the supervisor's answer, comes on the world's status
// descriptor (StatusFD).
const (
	// ExitReboot asks for a reset (an install set was committed, or the
	// normal world asked for one).
	ExitReboot = 3
	// ExitHalt reports a fault (hardware, secure storage, boot) that a
	// restart would meet again: the device halts.
	ExitHalt = 4
	// Any other non-zero status is a crash: the supervisor restarts the
	// device, a bounded number of times (RestartPolicy).
)

// The descriptors a world starts with: its end of the socket pair, its
// status descriptor, and the shared region if --ipc-shared; the normal
// world also gets its control socket, listening, and a descriptor to
// report its confinement on.
const (
	IPCFD     = 3
	StatusFD  = 4
	SharedFD  = 5
	ControlFD = 6
	ConfineFD = 7
)

// supervisorEnv names the supervisor's PID in a world's environment, so
// that a world whose supervisor died before it could ask to die with it
// notices and exits.
const supervisorEnv = "TEEUP_SUPERVISOR_PID"

// ErrOrphan is returned by CheckSupervisor in a world whose supervisor is
// gone.
var ErrOrphan = errors.New("device: the supervisor that started this world is gone")

// CheckSupervisor is the first thing a world's process does: the parent
// death signal is armed before the world runs, but a supervisor that died
// before it was armed sent none, and the world would run on unsupervised.
// It also keeps the descriptors the supervisor passed from the commands
// the world runs (a health check), so that they end with the world.
func CheckSupervisor() error {
	for fd := IPCFD; fd <= ConfineFD; fd++ {
		syscall.CloseOnExec(fd)
	}
	want, err := strconv.Atoi(os.Getenv(supervisorEnv))
	if err != nil {
		return nil // not started by a supervisor
	}
	if got := os.Getppid(); got != want {
		return fmt.Errorf("%w (parent %d, want %d)", ErrOrphan, got, want)
	}
	return nil
}

// ExitCode is the exit status a world's process ends with after err: 0,
// ExitReboot, ExitHalt (its reason written on StatusFD), or 1.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ipc.ErrReboot):
		return ExitReboot
	case errors.Is(err, world.ErrHalt):
		if os.Getenv(supervisorEnv) != "" {
			f := os.NewFile(StatusFD, "status")
			_, _ = io.WriteString(f, err.Error()) // the exit status alone still says halt
			f.Close()
		}
		return ExitHalt
	}
	return 1
}

// exitStatus is a world's exit status from its Wait, -1 if it died of a
// signal or could not be waited for.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
