package device

import "syscall"

// worldProcAttr makes a world die with its supervisor: the kernel sends
// it SIGKILL when the supervisor dies, however it dies, which is a power
// cut to the device (the device survives those). Pdeathsig follows the
// thread that started the world; Go ends threads only when a goroutine
// locked to one exits, which the supervisor never does.
func worldProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
