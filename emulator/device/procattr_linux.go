package device

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// worldProcAttr makes a world die with its supervisor: the kernel sends
// it SIGKILL when the supervisor dies, however it dies, which is a power
// cut to the device (the device survives those). Pdeathsig follows the
// thread that started the world; Go ends threads only when a goroutine
// locked to one exits, which the supervisor never does.
func worldProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// rearmParentDeath arms the parent death signal again in a world whose
// user changed, which clears it.
func rearmParentDeath() error {
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
}
