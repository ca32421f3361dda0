package tpm

import "errors"

// Errors returned by this package. Errors that come from the TPM itself
// are wrapped unchanged, so errors.Is(err, tpm2.TPMRC…) works on them too.
var (
	// ErrInvalidArgument: a PCR number, digest, NV index, secret or nonce
	// was out of range. Nothing was sent to the TPM.
	ErrInvalidArgument = errors.New("tpm: invalid argument")

	// ErrBackward: a counter or a rollback index was asked to take a value
	// below the one it holds. It is unchanged.
	ErrBackward = errors.New("tpm: counter would go backward")

	// ErrIndexExists: a Define… found the NV index already defined.
	ErrIndexExists = errors.New("tpm: NV index already defined")

	// ErrIndexUndefined: no NV index is defined at the handle.
	ErrIndexUndefined = errors.New("tpm: NV index not defined")

	// ErrWrongIndexType: the NV index exists but is not of the kind the
	// operation needs (its type or attributes differ).
	ErrWrongIndexType = errors.New("tpm: NV index of the wrong kind")

	// ErrAdvanceTooFar: AdvanceCounterTo was asked to move a counter by
	// more than MaxCounterAdvance. The counter is unchanged.
	ErrAdvanceTooFar = errors.New("tpm: counter advance too large")

	// ErrUnsealFailed: a sealed blob is malformed, altered, or not this
	// TPM's.
	ErrUnsealFailed = errors.New("tpm: unseal failed")
)
