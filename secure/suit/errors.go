package suit

import (
	"errors"
	"fmt"
)

// ErrRejected is the root of every error that means "the input was refused":
// a bad signature, a digest mismatch, a rollback, a wrong device, a
// malformed or unsupported manifest. Platform faults (I/O, storage) are not
// ErrRejected: they say nothing about the manifest.
var ErrRejected = errors.New("suit: rejected")

// The refusals, each an ErrRejected: errors.Is tells them apart, and a
// report gives each its reason.
var (
	ErrMalformed          = fmt.Errorf("%w: malformed", ErrRejected)
	ErrUnsupported        = fmt.Errorf("%w: unsupported", ErrRejected)
	ErrBadSignature       = fmt.Errorf("%w: no authentication block verifies", ErrRejected)
	ErrUnauthenticated    = fmt.Errorf("%w: no authentication block", ErrRejected)
	ErrDigestMismatch     = fmt.Errorf("%w: digest mismatch", ErrRejected)
	ErrRollback           = fmt.Errorf("%w: sequence number rollback", ErrRejected)
	ErrVendorMismatch     = fmt.Errorf("%w: vendor identifier mismatch", ErrRejected)
	ErrClassMismatch      = fmt.Errorf("%w: class identifier mismatch", ErrRejected)
	ErrDeviceMismatch     = fmt.Errorf("%w: device identifier mismatch", ErrRejected)
	ErrImageMismatch      = fmt.Errorf("%w: image does not match its digest", ErrRejected)
	ErrContentMismatch    = fmt.Errorf("%w: content mismatch", ErrRejected)
	ErrSlotMismatch       = fmt.Errorf("%w: component slot mismatch", ErrRejected)
	ErrAborted            = fmt.Errorf("%w: abort condition", ErrRejected)
	ErrMissingParameter   = fmt.Errorf("%w: required parameter not set", ErrRejected)
	ErrTryEachExhausted   = fmt.Errorf("%w: no try-each alternative succeeded", ErrRejected)
	ErrTooComplex         = fmt.Errorf("%w: processing limit reached", ErrRejected)
	ErrPayloadUnavailable = fmt.Errorf("%w: payload not available", ErrRejected)
	ErrUnauthorized       = fmt.Errorf("%w: signer not authorized", ErrRejected)
	// The kinds of unsupported input, each an ErrUnsupported, that a
	// report tells apart (draft-ietf-suit-report reasons).
	ErrUnsupportedCommand   = fmt.Errorf("%w command", ErrUnsupported)
	ErrUnsupportedParameter = fmt.Errorf("%w parameter", ErrUnsupported)
	ErrUnsupportedComponent = fmt.Errorf("%w component", ErrUnsupported)
	ErrUnsupportedAlgorithm = fmt.Errorf("%w algorithm", ErrUnsupported)
	ErrUnsupportedCOSE      = fmt.Errorf("%w COSE structure or header", ErrUnsupported)
	// ErrCriticalHeader: a COSE message's crit names a header parameter
	// this processor does not act on (RFC 9052 §3.1).
	ErrCriticalHeader = fmt.Errorf("%w: critical header parameter not understood", ErrUnsupportedCOSE)
	// ErrNotDependency: the component is not a dependency of the manifest.
	ErrNotDependency = fmt.Errorf("%w: component is not a dependency", ErrRejected)
	// Update-management condition failures.
	ErrExpired           = fmt.Errorf("%w: past the manifest's use-before time", ErrRejected)
	ErrImageMatches      = fmt.Errorf("%w: image matches the digest it must not match", ErrRejected)
	ErrBatteryLow        = fmt.Errorf("%w: battery below the minimum", ErrRejected)
	ErrUpdateNotApproved = fmt.Errorf("%w: update not approved on the device", ErrRejected)
	ErrVersionMismatch   = fmt.Errorf("%w: component version does not match", ErrRejected)
	// ErrNoDecryptionKey: no recipient of an encryption info is addressed
	// to a key the device holds.
	ErrNoDecryptionKey = fmt.Errorf("%w: no key for any recipient of the encryption info", ErrRejected)
	// ErrDecryption: a wrapped key or an AEAD tag did not verify, so the
	// ciphertext or the encryption info was altered or is for another key.
	ErrDecryption = fmt.Errorf("%w: decryption failed", ErrRejected)
)

// CommandError says which command of which sequence failed, and on which
// component. Condition reports whether the command was a condition: only
// condition failures may be soft (draft-37 §8.4.8.13).
type CommandError struct {
	Sequence  string
	Command   string
	Component int // index into suit-components, -1 when none applies
	Condition bool
	// Manifest and Offset locate the command as Record does.
	Manifest, Offset int
	Err              error
}

// innermost returns the deepest CommandError in err's chain: the command
// that failed first, when a dependency's failure aborted its dependent.
func innermost(err error) *CommandError {
	var found *CommandError
	for {
		var ce *CommandError
		if !errors.As(err, &ce) {
			return found
		}
		found, err = ce, ce.Err
	}
}

func (e *CommandError) Error() string {
	if e.Component < 0 {
		return fmt.Sprintf("%s: %s: %v", e.Sequence, e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %s on component %d: %v", e.Sequence, e.Command, e.Component, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

// ParameterError says which SUIT parameter (its key, as ParamName names
// it) an error concerns, so that a caller need not read the message.
type ParameterError struct {
	Param int64
	Err   error
}

func (e *ParameterError) Error() string { return e.Err.Error() }

func (e *ParameterError) Unwrap() error { return e.Err }

// unsupportedParam is ErrUnsupportedParameter for parameter key.
func unsupportedParam(key int64, format string, args ...any) error {
	return &ParameterError{Param: key, Err: unsupportedAs(ErrUnsupportedParameter, format, args...)}
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// unsupportedAs is unsupported with a finer kind (ErrUnsupportedCommand...).
func unsupportedAs(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
