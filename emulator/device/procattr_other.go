//go:build !linux

package device

import "syscall"

// worldProcAttr: without a parent death signal, a world notices its
// supervisor is gone when its channel closes, and CheckSupervisor at start.
func worldProcAttr() *syscall.SysProcAttr { return nil }

// rearmParentDeath: no parent death signal to arm again.
func rearmParentDeath() error { return nil }
