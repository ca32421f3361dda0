package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// AddPrincipal stores p; ErrExists when its name is taken.
func (s *Store) AddPrincipal(ctx context.Context, p store.Principal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	roles, err := listCol(p.Roles)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, "add principal "+p.Name, `INSERT INTO principals (`+principalCols+`) VALUES ($1, $2, $3, $4, $5)`,
		p.Name, roles, p.Author, p.PasswordHash, timeCol(p.Created))
	return err
}

const principalCols = `name, roles, author, password_hash, created`

func scanPrincipal(sc scanner) (store.Principal, error) {
	var (
		p       store.Principal
		roles   []byte
		created int64
	)
	if err := sc.Scan(&p.Name, &roles, &p.Author, &p.PasswordHash, &created); err != nil {
		return store.Principal{}, err
	}
	rs, err := colList[store.Role](roles)
	if err != nil {
		return store.Principal{}, err
	}
	p.Roles, p.Created = rs, colTime(created)
	return p, nil
}

// Principal is the principal named name.
func (s *Store) Principal(ctx context.Context, name string) (store.Principal, error) {
	return one(ctx, s.pool, scanPrincipal, fmt.Sprintf("principal %q", name), `SELECT `+principalCols+` FROM principals WHERE name = $1`, name)
}

// ListPrincipals is every principal, by name.
func (s *Store) ListPrincipals(ctx context.Context) ([]store.Principal, error) {
	return list(ctx, s.pool, scanPrincipal, `SELECT `+principalCols+` FROM principals ORDER BY name`)
}

// SetPassword replaces a principal's password hash (nil: no login).
func (s *Store) SetPassword(ctx context.Context, name string, hash []byte) error {
	if err := (store.Principal{Name: name, PasswordHash: hash}).Validate(); err != nil {
		return err
	}
	what := fmt.Sprintf("set password: principal %q", name)
	n, err := s.exec(ctx, what, `UPDATE principals SET password_hash = $1 WHERE name = $2`, hash, name)
	return oneRow(n, err, what)
}

// oneRow is ErrNotFound when a statement without error changed no row.
func oneRow(n int64, err error, what string) error {
	if err == nil && n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// AddToken stores t; ErrExists when its ID or hash is taken, ErrNotFound
// when its principal is not.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := s.exec(ctx, "add token "+t.ID, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Principal, t.Hash, timeCol(t.Created), timeCol(t.Expires), timeCol(t.Revoked))
	return err
}

const tokenCols = `id, principal, hash, created, expires, revoked`

func scanToken(sc scanner) (store.Token, error) {
	var (
		t                         store.Token
		created, expires, revoked int64
	)
	if err := sc.Scan(&t.ID, &t.Principal, &t.Hash, &created, &expires, &revoked); err != nil {
		return store.Token{}, err
	}
	t.Created, t.Expires, t.Revoked = colTime(created), colTime(expires), colTime(revoked)
	return t, nil
}

// TokenByHash is the token whose hash is hash, revoked or expired or not:
// the caller judges it.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	return one(ctx, s.pool, scanToken, "token", `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash)
}

// ListTokens is the principal's tokens (every token when principal is
// empty), by creation time then ID.
func (s *Store) ListTokens(ctx context.Context, principal string) ([]store.Token, error) {
	return list(ctx, s.pool, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE $1 = '' OR principal = $1 ORDER BY created, id`, principal)
}

// RevokeToken marks the token revoked at at, if it is not: one conditional
// UPDATE, so of two revocations racing the first stays. ErrConflict when it
// was revoked already, ErrNotFound when no token has that ID.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if err := store.ValidTime("revoked", at); err != nil {
		return err
	}
	if at.IsZero() {
		return fmt.Errorf("%w: revoke token %q at the zero time", store.ErrInvalid, id)
	}
	what := fmt.Sprintf("revoke token %q", id)
	n, err := s.exec(ctx, what, `UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked = $3`, timeCol(at), id, int64(zeroTime))
	if err != nil || n == 1 {
		return err
	}
	revoked, err := one(ctx, s.pool, func(sc scanner) (r int64, err error) { return r, sc.Scan(&r) }, what, `SELECT revoked FROM tokens WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("%s: revoked at %v: %w", what, colTime(revoked), store.ErrConflict)
}

// AddLoginSession stores sess; ErrExists when its hash is taken,
// ErrNotFound when its principal is not.
func (s *Store) AddLoginSession(ctx context.Context, sess store.LoginSession) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	_, err := s.exec(ctx, "add login session of "+sess.Principal, `INSERT INTO login_sessions (hash, principal, csrf, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		sess.Hash, sess.Principal, sess.CSRF, timeCol(sess.Created), timeCol(sess.Expires))
	return err
}

// LoginSession is the login session whose cookie hashes to hash, expired
// or not: the caller judges it.
func (s *Store) LoginSession(ctx context.Context, hash []byte) (store.LoginSession, error) {
	return one(ctx, s.pool, func(sc scanner) (store.LoginSession, error) {
		var (
			ls               store.LoginSession
			created, expires int64
		)
		if err := sc.Scan(&ls.Hash, &ls.Principal, &ls.CSRF, &created, &expires); err != nil {
			return store.LoginSession{}, err
		}
		ls.Created, ls.Expires = colTime(created), colTime(expires)
		return ls, nil
	}, "login session", `SELECT hash, principal, csrf, created, expires FROM login_sessions WHERE hash = $1`, hash)
}

// DeleteLoginSession ends a login session; ErrNotFound when there is none.
func (s *Store) DeleteLoginSession(ctx context.Context, hash []byte) error {
	n, err := s.exec(ctx, "delete login session", `DELETE FROM login_sessions WHERE hash = $1`, hash)
	return oneRow(n, err, "delete login session")
}
