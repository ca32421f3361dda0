package ipc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Where says on which layer an error arose.
type Where uint8

const (
	// Transport: the byte stream failed (read or write error, the peer
	// hung up, a frame ended early, the call was abandoned).
	Transport Where = iota + 1
	// Protocol: the bytes arrived but do not form a valid message of this
	// protocol (bad frame, bad CBOR, unknown op, wrong version, response
	// ID mismatch, a bound exceeded), whichever side noticed.
	Protocol
	// Secure: the secure world understood the request and refused it or
	// failed carrying it out.
	Secure
)

// String returns the layer's name, as in error messages.
func (w Where) String() string {
	switch w {
	case Transport:
		return "transport"
	case Protocol:
		return "protocol"
	case Secure:
		return "secure"
	}
	return "where(" + strconv.Itoa(int(w)) + ")"
}

// Code is the status of a response, and the kind of an Error. The code
// spaces of the layers do not overlap, so a code alone tells its layer;
// numbers are never reused.
type Code uint16

// OK is the status of a successful response; it is never the code of an
// Error.
const OK Code = 0

// Codes of the secure world (Where Secure). A handler reports one by
// returning an *Error (see Errorf); any other error becomes Internal.
const (
	// Rejected: the input was refused: bad signature or digest, rollback,
	// wrong device, unauthorised signer, malformed envelope or message.
	Rejected Code = 1 + iota
	// Busy: another update is in progress.
	Busy
	// BadState: the operation is out of order: install before every
	// payload finished, accept or reject with no trial, a chunk for a set
	// that does not exist any more.
	BadState
	// OutOfRange: a chunk past the declared size, overlapping an earlier
	// one or out of order; a payload index that was not requested.
	OutOfRange
	// NotFound: no such update set, payload or component.
	NotFound
	// Unsupported: the secure world does not implement this operation or
	// this variant of it.
	Unsupported
	// Internal: a fault inside the secure world (flash, TPM, a bug), not
	// the caller's input.
	Internal
)

// Codes of the protocol layer (Where Protocol).
const (
	// Malformed: a frame or a CBOR body that does not parse, or does not
	// match the schema of its message (type, length, trailing bytes,
	// duplicate keys, indefinite lengths, tags, an unknown status or
	// state).
	Malformed Code = 64 + iota
	// VersionMismatch: the peer speaks another protocol version.
	VersionMismatch
	// UnknownOp: the request names an operation this version lacks.
	UnknownOp
	// IDMismatch: a response answered another request than the one in
	// flight. Detected by the client; never sent.
	IDMismatch
	// LimitExceeded: a bound of limits.go was exceeded (frame size, field
	// size or count, requests or bytes per session).
	LimitExceeded
)

// IO is the code of every Transport error; the cause (io.EOF,
// context.Canceled, a net error) is kept for errors.Is. Never sent.
const IO Code = 128

var codeNames = map[Code]string{
	OK:              "ok",
	Rejected:        "rejected",
	Busy:            "busy",
	BadState:        "bad state",
	OutOfRange:      "out of range",
	NotFound:        "not found",
	Unsupported:     "unsupported",
	Internal:        "internal",
	Malformed:       "malformed",
	VersionMismatch: "version mismatch",
	UnknownOp:       "unknown op",
	IDMismatch:      "id mismatch",
	LimitExceeded:   "limit exceeded",
	IO:              "i/o",
}

// String returns the code's name, as in error messages.
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// where is the layer a code belongs to, or 0 for OK and unknown codes.
func (c Code) where() Where {
	switch {
	case c >= Rejected && c <= Internal:
		return Secure
	case c >= Malformed && c <= LimitExceeded:
		return Protocol
	case c == IO:
		return Transport
	}
	return 0
}

// onWire reports whether c may be the status of a response: the secure
// codes and the protocol codes a server sends.
func (c Code) onWire() bool {
	return c == OK || c.where() == Secure || (c.where() == Protocol && c != IDMismatch)
}

// Error is every error this package returns, on both sides of the channel,
// other than a context error passed through. Callers test it with
// errors.Is against the sentinels below, or errors.As for the message.
type Error struct {
	Where   Where
	Code    Code
	Message string // detail for humans; may come from the peer, so untrusted
	cause   error
}

// Sentinels for errors.Is. A sentinel matches every Error whose fields
// equal its non-zero fields: ErrProtocol matches any protocol error,
// ErrBadState any error with code BadState.
var (
	ErrTransport = &Error{Where: Transport}
	ErrProtocol  = &Error{Where: Protocol}
	ErrSecure    = &Error{Where: Secure}

	ErrRejected    = &Error{Code: Rejected}
	ErrBusy        = &Error{Code: Busy}
	ErrBadState    = &Error{Code: BadState}
	ErrOutOfRange  = &Error{Code: OutOfRange}
	ErrNotFound    = &Error{Code: NotFound}
	ErrUnsupported = &Error{Code: Unsupported}
	ErrInternal    = &Error{Code: Internal}

	ErrMalformed       = &Error{Code: Malformed}
	ErrVersionMismatch = &Error{Code: VersionMismatch}
	ErrUnknownOp       = &Error{Code: UnknownOp}
	ErrIDMismatch      = &Error{Code: IDMismatch}
	ErrLimitExceeded   = &Error{Code: LimitExceeded}
)

// Errorf returns a secure-world error with code c, for a Handler to
// return. The message crosses to the normal world: it must not hold a
// secret.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Where: Secure, Code: c, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ipc")
	if e.Where != 0 {
		b.WriteString(": ")
		b.WriteString(e.Where.String())
	}
	if e.Code != 0 {
		b.WriteString(": ")
		b.WriteString(e.Code.String())
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Is matches target if it is an *Error whose non-zero Where and Code equal
// those of e. The message is not compared.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Where == 0 || t.Where == e.Where) && (t.Code == 0 || t.Code == e.Code)
}

// Unwrap returns the cause of a transport or decoding error, if any.
func (e *Error) Unwrap() error { return e.cause }

func transportError(msg string, cause error) *Error {
	return &Error{Where: Transport, Code: IO, Message: msg, cause: cause}
}

func protocolError(c Code, msg string, cause error) *Error {
	return &Error{Where: Protocol, Code: c, Message: msg, cause: cause}
}

// handlerStatus turns an error of a Handler into the status and message of
// a response. An *Error of the secure code space keeps its code; anything
// else is Internal. The message is cut to MaxMessage at a rune boundary.
func handlerStatus(err error) (Code, string) {
	code, msg := Internal, err.Error()
	var e *Error
	if errors.As(err, &e) && e.Code.where() == Secure {
		code = e.Code
		// fmt.Errorf("install set %d: %w", set, ipc.ErrBadState) reads
		// better without the *Error's own prefix: the code travels apart.
		if prefix, ok := strings.CutSuffix(msg, e.Error()); ok {
			msg = strings.TrimSuffix(prefix, ": ")
			if e.Message != "" {
				if msg != "" {
					msg += ": "
				}
				msg += e.Message
			}
		}
	}
	return code, truncateMessage(msg)
}

func truncateMessage(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxMessage {
		return s
	}
	s = s[:MaxMessage]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
