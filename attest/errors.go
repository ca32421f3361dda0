package attest

import "errors"

// ErrRejected is the root of every refusal of evidence: the input was
// checked and found wanting. Every other error of this package is a
// fault of the caller or its environment.
var ErrRejected = errors.New("attest: evidence rejected")

// The refusals, each errors.Is ErrRejected.
var (
	// ErrMalformed: the evidence or a part of it does not decode, or
	// breaks a bound or the profile.
	ErrMalformed = reject("malformed evidence")
	// ErrSignature: the EAT is not signed by the registered device's
	// attestation key.
	ErrSignature = reject("EAT signature does not verify")
	// ErrQuote: the quote is not a quote, is not signed by the endorsed
	// TPM attestation key, or does not cover the EAT.
	ErrQuote = reject("TPM quote does not verify")
	// ErrEventLog: the event log does not replay to the quoted PCRs.
	ErrEventLog = reject("event log does not replay to the quoted PCRs")
	// ErrMeasurements: the EAT's measurements differ from the event log's.
	ErrMeasurements = reject("EAT measurements differ from the event log")
	// ErrNonce: the nonce is missing, was not issued, has expired or was
	// used before.
	ErrNonce = reject("nonce not issued, expired or used")
	// ErrUnregistered: no endorsement is registered for the device.
	ErrUnregistered = reject("device not registered")
)

type rejectError struct{ msg string }

func (e *rejectError) Error() string        { return "attest: " + e.msg }
func (e *rejectError) Is(target error) bool { return target == ErrRejected }

func reject(msg string) error { return &rejectError{msg} }

// ErrResult: an attestation result (EAR) is not signed by the verifier's
// key or breaks its format.
var ErrResult = reject("attestation result does not verify")
