package teep

import (
	"errors"
	"fmt"
)

// The ways a message is refused. Every error the package returns wraps one
// of them (test with errors.Is). ErrMalformed is the parent of those that
// say the bytes are not a valid message.
var (
	// ErrMalformed: not one well-formed, strictly encoded CBOR item of the
	// shape the CDDL gives (duplicate keys, indefinite lengths, trailing
	// bytes, a wrong type, a missing element).
	ErrMalformed = errors.New("teep: malformed message")
	// ErrLimit: over one of the limits of limits.go.
	ErrLimit = fmt.Errorf("%w: over a size limit", ErrMalformed)
	// ErrFieldSize: a field outside the size the CDDL gives it (a token
	// not 8..64 bytes, an empty err-msg).
	ErrFieldSize = fmt.Errorf("%w: field size", ErrMalformed)
	// ErrMissing: a required element is absent (a QueryRequest with no
	// cipher suite).
	ErrMissing = fmt.Errorf("%w: required element missing", ErrMalformed)
	// ErrCipherSuite: a cipher suite of neither known shape, or one with
	// no signing operation.
	ErrCipherSuite = fmt.Errorf("%w: cipher suite", ErrMalformed)
	// ErrUnknownType: a message type neither numbering defines.
	ErrUnknownType = fmt.Errorf("%w: unknown message type", ErrMalformed)
	// ErrNumbering: the message fits neither codepoint numbering, or not
	// the one the caller asked for.
	ErrNumbering = fmt.Errorf("%w: fits no codepoint numbering", ErrMalformed)

	// ErrAlgorithm: a COSE algorithm this package does not accept.
	ErrAlgorithm = errors.New("teep: COSE algorithm not accepted")
	// ErrSignature: no trusted key verifies the COSE_Sign1.
	ErrSignature = errors.New("teep: signature does not verify")
	// ErrEncode: a message that cannot be encoded (it would not decode).
	ErrEncode = errors.New("teep: message cannot be encoded")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func wrapf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
