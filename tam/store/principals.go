package store

import (
	"context"
	"time"
)

// Role is what a principal may do on the operator API (issue 17).
type Role string

// The roles.
const (
	// RoleTAAuthor publishes TAs inside its author's prefixes.
	RoleTAAuthor Role = "ta-author"
	// RoleFirmwareAuthor publishes images inside its author's prefixes.
	RoleFirmwareAuthor Role = "firmware-author"
	// RoleOperator manages devices, groups, rollouts, personalization,
	// authors, users and tokens.
	RoleOperator Role = "operator"
	// RoleViewer reads status.
	RoleViewer Role = "viewer"
)

// Principal is a user of the operator API.
type Principal struct {
	Name  string
	Roles []Role
	// Author is the registered author an author role publishes as.
	Author string
	// PasswordHash is the dashboard login's hash (its own format,
	// self-describing); nil when the principal has no login.
	PasswordHash []byte
	Created      time.Time
}

// Token is an API token. The token itself is shown once and never
// stored: only its hash is.
type Token struct {
	ID        string
	Principal string
	Hash      []byte
	Created   time.Time
	Expires   time.Time
	// Revoked is when it was revoked; zero while it is good.
	Revoked time.Time
}

// LoginSession is a dashboard login, keyed by the hash of its cookie.
type LoginSession struct {
	Hash      []byte
	Principal string
	CSRF      []byte
	Created   time.Time
	Expires   time.Time
}

// Principals are the operator side's users, tokens and login sessions.
type Principals interface {
	AddPrincipal(ctx context.Context, p Principal) error // ErrExists
	Principal(ctx context.Context, name string) (Principal, error)
	// ListPrincipals is every principal, by name.
	ListPrincipals(ctx context.Context) ([]Principal, error)
	// SetPassword replaces a principal's password hash (nil: no login).
	SetPassword(ctx context.Context, name string, hash []byte) error

	// AddToken stores t; ErrExists when its ID or its hash is taken,
	// ErrNotFound when its principal is not registered.
	AddToken(ctx context.Context, t Token) error
	// TokenByHash is the token with that hash, revoked or expired or not:
	// the caller judges it.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// ListTokens is a principal's tokens (every token when principal is
	// empty), by Created, then ID.
	ListTokens(ctx context.Context, principal string) ([]Token, error)
	// RevokeToken marks a token revoked at (not zero); ErrConflict when it
	// was (the first time stays), ErrNotFound when there is no such token.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// AddLoginSession stores s; ErrExists when its hash is taken,
	// ErrNotFound when its principal is not registered.
	AddLoginSession(ctx context.Context, s LoginSession) error
	// LoginSession is the session with that hash, expired or not.
	LoginSession(ctx context.Context, hash []byte) (LoginSession, error)
	// DeleteLoginSession ends a login session; ErrNotFound when none.
	DeleteLoginSession(ctx context.Context, hash []byte) error
}

// AuditEntry is one state change, or one refusal, on the operator side.
type AuditEntry struct {
	// Seq is its place in the trail, given by the store.
	Seq       int64
	Time      time.Time
	Principal string // empty when no one was authenticated
	Action    string // e.g. "publish", "token.revoke"
	Target    string // what it acted on
	Result    string // "ok", or the refusal or error
	Detail    string
}

// Audit is the append-only audit trail: a backend refuses updates and
// deletes of its rows at the storage level, not only in Go.
type Audit interface {
	// AppendAudit appends e (its Seq is ignored) and returns the Seq it
	// got, larger than every Seq before it.
	AppendAudit(ctx context.Context, e AuditEntry) (seq int64, err error)
	// ListAudit is up to limit entries after seq after, oldest first.
	// limit must be positive (ErrInvalid) and is clamped to MaxPage.
	ListAudit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
}
