package world

import "errors"

// ErrHalt marks a fault after which the secure world must not run: its
// hardware does not open or answer, its secure storage does not
// authenticate, or its boot failed. Starting it again would meet the same
// fault, so the device halts, saying why, until someone repairs it.
var ErrHalt = errors.New("the device halts")

// HaltError is a fault that halts the device: Why says what failed in
// words a person acts on, Err is the cause.
type HaltError struct {
	Why string
	Err error
}

// Halt wraps err as a fault that halts the device.
func Halt(why string, err error) error { return &HaltError{Why: why, Err: err} }

func (e *HaltError) Error() string { return e.Why + ": " + e.Err.Error() }

// Unwrap makes a HaltError both ErrHalt and its cause.
func (e *HaltError) Unwrap() []error { return []error{ErrHalt, e.Err} }
