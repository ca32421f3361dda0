//go:build !linux

package ipc

import (
	"errors"
	"io"
	"os"
)

// sendFileKernel has no kernel path here: sendFile copies.
func sendFileKernel(io.Writer, *os.File, int64, int) (int, error) {
	return 0, errors.ErrUnsupported
}
