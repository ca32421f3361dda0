package ipc

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorIs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		is     []error
		isNot  []error
		unwrap error
	}{
		{
			name:  "secure bad state",
			err:   Errorf(BadState, "install before finish"),
			is:    []error{ErrSecure, ErrBadState},
			isNot: []error{ErrProtocol, ErrTransport, ErrRejected, ErrInternal},
		},
		{
			name:  "wrapped",
			err:   fmt.Errorf("install set %d: %w", 3, Errorf(Busy, "")),
			is:    []error{ErrSecure, ErrBusy},
			isNot: []error{ErrProtocol, ErrBadState},
		},
		{
			name:  "protocol unknown op",
			err:   protocolError(UnknownOp, "op(99)", nil),
			is:    []error{ErrProtocol, ErrUnknownOp},
			isNot: []error{ErrSecure, ErrTransport, ErrUnsupported, ErrMalformed},
		},
		{
			name:   "transport",
			err:    transportError("read frame header", io.ErrUnexpectedEOF),
			is:     []error{ErrTransport, io.ErrUnexpectedEOF},
			isNot:  []error{ErrProtocol, ErrSecure, io.EOF},
			unwrap: io.ErrUnexpectedEOF,
		},
		{
			name:  "exact where and code",
			err:   &Error{Where: Secure, Code: Rejected},
			is:    []error{&Error{Where: Secure, Code: Rejected}},
			isNot: []error{&Error{Where: Protocol, Code: Rejected}, &Error{Where: Secure, Code: Busy}, errors.New("x")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range tc.is {
				if !errors.Is(tc.err, target) {
					t.Errorf("%v is not %v", tc.err, target)
				}
			}
			for _, target := range tc.isNot {
				if errors.Is(tc.err, target) {
					t.Errorf("%v is %v", tc.err, target)
				}
			}
			var e *Error
			if !errors.As(tc.err, &e) {
				t.Fatalf("%v is no *Error", tc.err)
			}
			if got := errors.Unwrap(e); got != tc.unwrap {
				t.Errorf("Unwrap = %v, want %v", got, tc.unwrap)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{Errorf(BadState, "set %d", 3), "ipc: secure: bad state: set 3"},
		{ErrProtocol, "ipc: protocol"},
		{ErrBusy, "ipc: busy"},
		{transportError("read frame header", io.EOF), "ipc: transport: i/o: read frame header: EOF"},
		{&Error{Where: 9, Code: 999}, "ipc: where(9): code(999)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestCodeSpaces(t *testing.T) {
	for _, c := range []Code{Rejected, Busy, BadState, OutOfRange, NotFound, Unsupported, Internal} {
		if c.where() != Secure || !c.onWire() {
			t.Errorf("%v: where %v, on wire %v", c, c.where(), c.onWire())
		}
	}
	for _, c := range []Code{Malformed, VersionMismatch, UnknownOp, LimitExceeded} {
		if c.where() != Protocol || !c.onWire() {
			t.Errorf("%v: where %v, on wire %v", c, c.where(), c.onWire())
		}
	}
	for _, c := range []Code{IDMismatch, IO, 8, 63, 69, 999} {
		if c.onWire() {
			t.Errorf("%v is sent", c)
		}
	}
}

func TestHandlerStatus(t *testing.T) {
	long := strings.Repeat("é", MaxMessage) // two bytes each
	for _, tc := range []struct {
		name     string
		err      error
		wantCode Code
		wantMsg  string
	}{
		{"Errorf", Errorf(OutOfRange, "chunk at %d past size", 9000), OutOfRange, "chunk at 9000 past size"},
		{"wrapped sentinel", fmt.Errorf("install set 3: %w", ErrBadState), BadState, "install set 3"},
		{"wrapped Errorf", fmt.Errorf("set 3: %w", Errorf(NotFound, "no payload 9")), NotFound, "set 3: no payload 9"},
		{"plain error", errors.New("flash on fire"), Internal, "flash on fire"},
		{"protocol code from handler", protocolError(Malformed, "x", nil), Internal, "ipc: protocol: malformed: x"},
		{"transport code from handler", transportError("x", io.EOF), Internal, "ipc: transport: i/o: x: EOF"},
		{"invalid UTF-8", errors.New("bad \xff byte"), Internal, "bad \uFFFD byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := handlerStatus(tc.err)
			if code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("got %v %q, want %v %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		_, msg := handlerStatus(Errorf(Rejected, "%s", long))
		if len(msg) > MaxMessage || !utf8.ValidString(msg) || !strings.HasPrefix(long, msg) || len(msg) < MaxMessage-1 {
			t.Errorf("truncated to %d bytes, valid %v", len(msg), utf8.ValidString(msg))
		}
	})
}
