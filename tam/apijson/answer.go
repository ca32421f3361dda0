package apijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// ErrorBody is every error answer of the operator API. Clients read Code;
// Error is for people.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// internalBody is the answer when even encoding the answer failed.
const internalBody = `{"error":"internal error","code":"internal"}` + "\n"

// WriteJSON answers v as JSON with status. The answers of an
// authenticated API are no-store: a token, a user or a fleet's state is
// no cache's business. A v that does not encode is a programming error:
// logged, answered 500.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		slog.Error("operator API: encoding the answer", "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(internalBody)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a client that hung up gets nothing more
}

// WriteError answers an error body with status, code and msg as given.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	WriteJSON(w, status, ErrorBody{Error: msg, Code: code})
}

// Status is one row of a Statuses table: an error wrapping Err answers
// Status with Code.
type Status struct {
	Err    error
	Status int
	Code   string
}

// Statuses maps a package's refusals onto HTTP statuses; the first row
// whose Err the error wraps (errors.Is) answers. An error no row maps is
// an internal fault: 500 "internal".
type Statuses []Status

// Of is err's status and code. An *http.MaxBytesError not wrapped in
// ErrTooLarge (a body read outside Decode) counts as ErrTooLarge.
func (s Statuses) Of(err error) (status int, code string) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok && !errors.Is(err, ErrTooLarge) {
		err = BodyError(err)
	}
	for _, row := range s {
		if errors.Is(err, row.Err) {
			return row.Status, row.Code
		}
	}
	return http.StatusInternalServerError, "internal"
}

// Responder answers the errors of one package's handlers. The zero Log
// is slog.Default(). Safe for concurrent use.
type Responder struct {
	Statuses Statuses
	Log      *slog.Logger
}

// Error answers err with its status and code (Statuses.Of) and its text;
// an internal fault is logged and its text masked as "internal error".
func (a Responder) Error(w http.ResponseWriter, err error) {
	status, code := a.Statuses.Of(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		log := a.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("operator API", "err", err)
		msg = "internal error"
	}
	WriteError(w, status, code, msg)
}

// Read is the package-level Read, answering its refusal: false when it
// answered.
func (a Responder) Read(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if err := Read(w, r, limit, v); err != nil {
		a.Error(w, err)
		return false
	}
	return true
}

// ReadOptional is the package-level ReadOptional, answering its refusal.
func (a Responder) ReadOptional(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if err := ReadOptional(w, r, limit, v); err != nil {
		a.Error(w, err)
		return false
	}
	return true
}
