package apijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Decode decodes exactly one JSON value from body into v, refusing
// unknown fields and anything after the value but white space. The
// caller bounds body (Read does); a read over the bound answers
// ErrTooLarge, anything else refused answers ErrMalformed.
func Decode(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return BodyError(err)
		}
		return fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return nil
}

// Read bounds r's body to limit bytes and decodes it (Decode).
func Read(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return Decode(r.Body, v)
}

// ReadOptional is Read for a body that may be empty (or only white
// space): then v is left as it is.
func ReadOptional(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return BodyError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return Decode(bytes.NewReader(body), v)
}

// BodyError is a body that could not be read or decoded: ErrTooLarge
// when the read went over its bound, else ErrMalformed; err stays
// wrapped.
func BodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}
