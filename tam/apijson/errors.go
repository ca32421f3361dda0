package apijson

import "errors"

// Refusals of a request body, matched with errors.Is. Each package maps
// them onto its statuses (400 and 413) with its own codes.
var (
	// ErrMalformed: the body is not exactly one JSON value of the
	// expected fields and types.
	ErrMalformed = errors.New("apijson: malformed JSON body")
	// ErrTooLarge: the body is over the caller's bound. An
	// *http.MaxBytesError counts as one (Statuses.Of).
	ErrTooLarge = errors.New("apijson: body too large")
)
