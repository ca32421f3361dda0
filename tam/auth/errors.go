package auth

import (
	"errors"
	"fmt"
)

// Sentinels of the gate, matched with errors.Is. Those under
// ErrUnauthenticated answer 401, those under ErrForbidden 403.
var (
	ErrUnauthenticated = errors.New("auth: not authenticated")
	// ErrNoCredentials: the request carried no token and no session.
	ErrNoCredentials = fmt.Errorf("%w: no credentials", ErrUnauthenticated)
	// ErrBadCredentials: a token or session the TAM does not know, or a
	// wrong name or password.
	ErrBadCredentials = fmt.Errorf("%w: bad credentials", ErrUnauthenticated)
	// ErrExpired: a token or session past its expiry.
	ErrExpired = fmt.Errorf("%w: expired", ErrUnauthenticated)
	// ErrRevoked: a revoked token.
	ErrRevoked = fmt.Errorf("%w: revoked", ErrUnauthenticated)

	ErrForbidden = errors.New("auth: forbidden")
	// ErrRole: the principal holds none of the route's roles.
	ErrRole = fmt.Errorf("%w: role not allowed", ErrForbidden)
	// ErrCSRF: a state-changing request made with a session cookie
	// without the session's CSRF token, or from another origin.
	ErrCSRF = fmt.Errorf("%w: missing or wrong CSRF token", ErrForbidden)

	// ErrRateLimited: too many requests from one source (429).
	ErrRateLimited = errors.New("auth: rate limited")
	// ErrRate: a rate or a burst out of range (NewRate).
	ErrRate = errors.New("auth: rate out of range")
	// ErrOperatorExists: InitAdmin found an operator already.
	ErrOperatorExists = errors.New("auth: an operator exists already")
)
