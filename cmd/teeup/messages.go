package main

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
)

// plainError is an error with a message in plain words for the user; the
// error it wraps keeps the low-level detail, which --verbose shows.
type plainError struct {
	plain string
	err   error
	// whole: the plain words say everything; --verbose adds nothing.
	whole bool
}

func (e *plainError) Error() string { return e.plain + ": " + e.err.Error() }
func (e *plainError) Unwrap() error { return e.err }

// message is what the user reads of err: the plain words of the outermost
// plainError, or with --verbose (or when there are none) the whole chain.
func (a *app) message(err error) string {
	var pe *plainError
	if a.verbose || !errors.As(err, &pe) {
		return err.Error()
	}
	if pe.whole {
		return pe.plain
	}
	return pe.plain + " (--verbose says more)"
}

// reasons put the refusals of the SUIT library in plain words, the most
// specific first. Each keeps the word a user would search for.
var reasons = []struct {
	err   error
	words string
}{
	{suit.ErrUnauthenticated, "it is not signed (no authentication block)"},
	{suit.ErrBadSignature, "no signature on it verifies with the key(s) given (no authentication block verifies)"},
	{suit.ErrDigestMismatch, "the manifest was altered after it was signed (digest mismatch)"},
	{suit.ErrUnauthorized, "its signer is not authorized for the components it touches (signer not authorized)"},
	{suit.ErrRollback, "its sequence number is not above the one installed (sequence number rollback)"},
	{suit.ErrVendorMismatch, "it is for another vendor's devices (vendor identifier mismatch)"},
	{suit.ErrClassMismatch, "it is for another class of device (class identifier mismatch)"},
	{suit.ErrDeviceMismatch, "it is for another device (device identifier mismatch)"},
	{suit.ErrImageMismatch, "an image does not match its digest in the manifest (image does not match its digest)"},
	{suit.ErrPayloadUnavailable, "a payload it fetches is not available (payload not available: give it with --payload URI=FILE)"},
	{suit.ErrNoDecryptionKey, "a payload is encrypted for a key this device does not hold (no key for any recipient)"},
	{suit.ErrDecryption, "an encrypted payload does not decrypt: altered, or for another key (decryption failed)"},
	{suit.ErrExpired, "it is past its use-before time"},
	{suit.ErrUnsupported, ""}, // what is unsupported is the message
	{suit.ErrMalformed, "it is malformed"},
}

// refused wraps a refusal of what names with its plain reason; an error
// that is no refusal of the SUIT library passes unchanged.
func refused(what string, err error) error {
	if err == nil {
		return nil
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) && r.words == "" {
			return fmt.Errorf("%s: refused: %w", what, err)
		}
		if errors.Is(err, r.err) {
			return &plainError{plain: fmt.Sprintf("%s: refused: %s", what, r.words), err: err}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notEnvelope is the error of a file that does not decode as an envelope.
func notEnvelope(what string, err error) error {
	return &plainError{plain: fmt.Sprintf("%s: not a SUIT envelope", what), err: err}
}
