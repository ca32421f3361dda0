package tpm

import "errors"

// Errors returned by this package. A TPM command's own response code is in
// its response, which Send returns as the TPM gave it.
var (
	// ErrBusy: a TPM is already open in this process (the simulator is a
	// process-wide singleton), or another process holds the state directory.
	ErrBusy = errors.New("tpm: busy")

	// ErrClosed: the TPM was used after Close.
	ErrClosed = errors.New("tpm: closed")

	// ErrNoSimulator: the binary was built without cgo, so the reference TPM
	// is not linked in.
	ErrNoSimulator = errors.New("tpm: simulator not available (built without cgo)")

	// ErrStateCorrupt: the saved NV image could not be read back, or the
	// TPM refused to start from it.
	ErrStateCorrupt = errors.New("tpm: saved state corrupt")
)
