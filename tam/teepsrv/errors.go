package teepsrv

import "errors"

// Why a TEEP request was refused. Each refusal the server answers with an
// HTTP status or a TEEP Error wraps one of them; they are returned by
// Server.Handle and logged.
var (
	// ErrRefused is the parent of every refusal of the input.
	ErrRefused = errors.New("teepsrv: refused")
	// ErrUnsigned: a message that is not a COSE_Sign1 a kid names a key
	// of, or that the key does not verify.
	ErrUnsigned = wrap(ErrRefused, "not signed by a registered device")
	// ErrUnknownDevice: the kid names no registered device.
	ErrUnknownDevice = wrap(ErrUnsigned, "no registered device has that key")
	// ErrMalformed: a message the TEEP codec refuses.
	ErrMalformed = wrap(ErrRefused, "malformed TEEP message")
	// ErrUnexpected: a message type the TAM does not take at this point
	// (a QueryRequest or an Update sent to the TAM).
	ErrUnexpected = wrap(ErrRefused, "unexpected message")
	// ErrToken: no session waits for this token from this device in this
	// state: never issued, expired, spent (a replay), or another device's.
	ErrToken = wrap(ErrRefused, "unknown, expired or spent token")
)

type refusal struct {
	parent error
	msg    string
}

func (e *refusal) Error() string { return "teepsrv: " + e.msg }
func (e *refusal) Unwrap() error { return e.parent }

func wrap(parent error, msg string) error { return &refusal{parent, msg} }
