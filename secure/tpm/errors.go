package tpm

import "errors"

// Errors returned by this package. Errors that come from the TPM itself
// are wrapped unchanged, so errors.Is(err, tpm2.TPMRC…) works on them too.
var (
	// ErrInvalidArgument: an NV index was out of range. Nothing was sent
	// to the TPM.
	ErrInvalidArgument = errors.New("tpm: invalid argument")

	// ErrBackward: a rollback index was asked to take a value below the
	// one it holds. It is unchanged.
	ErrBackward = errors.New("tpm: anti-rollback value would go backward")

	// ErrIndexExists: a Define… found the NV index already defined.
	ErrIndexExists = errors.New("tpm: NV index already defined")

	// ErrIndexUndefined: no NV index is defined at the handle.
	ErrIndexUndefined = errors.New("tpm: NV index not defined")

	// ErrWrongIndexType: the NV index exists but is not of the kind the
	// operation needs (its type or attributes differ).
	ErrWrongIndexType = errors.New("tpm: NV index of the wrong kind")
)
