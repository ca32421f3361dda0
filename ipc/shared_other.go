//go:build !linux

package ipc

import (
	"errors"
	"os"
)

// CreateShared is not available here: the worlds exchange chunks in
// their frames.
func CreateShared(size int) (*os.File, error) { return nil, errors.ErrUnsupported }

// MapShared is not available here.
func MapShared(f *os.File, writable bool) (*Shared, error) { return nil, errors.ErrUnsupported }
