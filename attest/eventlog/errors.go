package eventlog

import (
	"errors"
	"fmt"
)

// The refusals of a log.
var (
	// ErrMalformed: the log does not decode, or an event breaks its
	// format (PCR out of range, unknown kind, digest not SHA-256).
	ErrMalformed = errors.New("eventlog: malformed")
	// ErrDuplicate: a component's manifest or image is measured twice.
	ErrDuplicate = errors.New("eventlog: component measured twice")
	// ErrIncomplete: a component's manifest or image is not measured.
	ErrIncomplete = errors.New("eventlog: component measured in part")
)

// EventError says which event a refusal is about.
type EventError struct {
	Err       error
	Index     int // the event's index in the log, -1 for the log as a whole
	Component string
	Kind      string
}

func (e *EventError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%v: %s", e.Err, e.Component)
	}
	return fmt.Sprintf("%v: event %d (%s %s)", e.Err, e.Index, e.Component, e.Kind)
}

func (e *EventError) Unwrap() error { return e.Err }

func eventError(err error, i int, e Event) error {
	return &EventError{Err: err, Index: i, Component: e.Component, Kind: e.Kind}
}
