package tpm

import "errors"

// Errors returned by this package. Errors that come from the TPM itself are
// wrapped unchanged, so errors.Is(err, tpm2.TPMRC…) works on them too.
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

	// ErrInvalidArgument: a PCR number, digest or NV index was out of range.
	// Nothing was sent to the TPM.
	ErrInvalidArgument = errors.New("tpm: invalid argument")

	// ErrCounterBackward: AdvanceCounterTo was asked for a value below the
	// counter's current value. The counter is unchanged.
	ErrCounterBackward = errors.New("tpm: counter would go backward")

	// ErrAdvanceTooFar: AdvanceCounterTo was asked to move a counter by more
	// than MaxCounterAdvance. The counter is unchanged.
	ErrAdvanceTooFar = errors.New("tpm: counter advance too large")

	// ErrCounterExists: DefineCounter found the index already defined.
	ErrCounterExists = errors.New("tpm: NV index already defined")

	// ErrCounterUndefined: no NV index is defined at the index.
	ErrCounterUndefined = errors.New("tpm: NV index not defined")

	// ErrNotCounter: the NV index exists but is not a counter.
	ErrNotCounter = errors.New("tpm: NV index is not a counter")
)

// ErrUnsealFailed: a sealed blob is malformed, altered, or not this TPM's.
var ErrUnsealFailed = errors.New("tpm: unseal failed")
