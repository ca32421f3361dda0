//go:build !linux

package world

import "runtime"

// Harden does nothing outside Linux, and says so.
func Harden() (string, error) {
	return "nothing: not available on " + runtime.GOOS, nil
}
