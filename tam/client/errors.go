package client

import (
	"errors"
	"fmt"
	"net/http"
)

// Refusals by status, matched with errors.Is against an *APIError.
var (
	ErrBadRequest   = errors.New("client: bad request")           // 400
	ErrUnauthorized = errors.New("client: no or bad credentials") // 401
	ErrForbidden    = errors.New("client: not allowed")           // 403
	ErrNotFound     = errors.New("client: not found")             // 404
	ErrConflict     = errors.New("client: conflict")              // 409
	ErrTooLarge     = errors.New("client: request too large")     // 413
	ErrServer       = errors.New("client: the TAM failed")        // 5xx
	ErrResponse     = errors.New("client: malformed answer")      // not what the API answers
)

// APIError is an error answer of the operator API.
type APIError struct {
	Status int
	// Code is the API's error code ("outside_prefixes", "exists", ...).
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("TAM: %s (%d %s)", e.Message, e.Status, e.Code)
}

// Is matches the sentinel of the error's status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrTooLarge:
		return e.Status == http.StatusRequestEntityTooLarge
	case ErrServer:
		return e.Status >= 500
	}
	return false
}
