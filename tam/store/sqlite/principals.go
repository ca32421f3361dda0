package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// AddPrincipal stores p; ErrExists when its name is taken.
func (s *Store) AddPrincipal(ctx context.Context, p store.Principal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO principals (name, roles, author, password_hash, created) VALUES (?, ?, ?, ?, ?)`,
			p.Name, rolesCol(p.Roles), p.Author, blobCol(p.PasswordHash), timeCol(p.Created))
		if err != nil {
			return constraint(err, "add principal "+p.Name)
		}
		return nil
	})
}

func scanPrincipal(sc interface{ Scan(...any) error }) (store.Principal, error) {
	var (
		p       store.Principal
		created int64
	)
	if err := sc.Scan(&p.Name, colRoles(&p.Roles), &p.Author, colBlob{&p.PasswordHash}, &created); err != nil {
		return store.Principal{}, err
	}
	p.Created = colTime(created)
	return p, nil
}

const principalCols = `name, roles, author, password_hash, created`

// Principal is the principal named name.
func (s *Store) Principal(ctx context.Context, name string) (store.Principal, error) {
	p, err := scanPrincipal(s.r.QueryRowContext(ctx, `SELECT `+principalCols+` FROM principals WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("principal %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("sqlite: principal %q: %w", name, err)
	}
	return p, nil
}

// ListPrincipals is every principal, by name.
func (s *Store) ListPrincipals(ctx context.Context) ([]store.Principal, error) {
	return list(ctx, s.r, scanPrincipal, `SELECT `+principalCols+` FROM principals ORDER BY name`)
}

// SetPassword replaces a principal's password hash (nil: no login).
func (s *Store) SetPassword(ctx context.Context, name string, hash []byte) error {
	if err := (store.Principal{Name: name, PasswordHash: hash}).Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE principals SET password_hash = ? WHERE name = ?`, blobCol(hash), name)
		if err != nil {
			return fmt.Errorf("sqlite: set password of %q: %w", name, err)
		}
		return oneRow(res, fmt.Sprintf("set password: principal %q", name))
	})
}

// oneRow is ErrNotFound when res changed no row.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// AddToken stores t; ErrExists when its ID or hash is taken, ErrNotFound
// when its principal is not.
func (s *Store) AddToken(ctx context.Context, t store.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Principal, t.Hash, timeCol(t.Created), timeCol(t.Expires), timeCol(t.Revoked))
		if err != nil {
			return constraint(err, "add token "+t.ID)
		}
		return nil
	})
}

const tokenCols = `id, principal, hash, created, expires, revoked`

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t                         store.Token
		created, expires, revoked int64
	)
	if err := sc.Scan(&t.ID, &t.Principal, colBlob{&t.Hash}, &created, &expires, &revoked); err != nil {
		return store.Token{}, err
	}
	t.Created, t.Expires, t.Revoked = colTime(created), colTime(expires), colTime(revoked)
	return t, nil
}

// TokenByHash is the token whose hash is hash, revoked or expired or not:
// the caller judges it.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: token: %w", err)
	}
	return t, nil
}

// ListTokens is the principal's tokens (every token when principal is
// empty), by creation time then ID.
func (s *Store) ListTokens(ctx context.Context, principal string) ([]store.Token, error) {
	if principal == "" {
		return list(ctx, s.r, scanToken, `SELECT `+tokenCols+` FROM tokens ORDER BY created, id`)
	}
	return list(ctx, s.r, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE principal = ? ORDER BY created, id`, principal)
}

// RevokeToken marks the token revoked at at; ErrConflict when it was
// revoked already (the first revocation time stays), ErrNotFound when no
// token has that ID.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if err := store.ValidTime("revoked", at); err != nil {
		return err
	}
	if at.IsZero() {
		return fmt.Errorf("%w: revoke token %q at the zero time", store.ErrInvalid, id)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT revoked FROM tokens WHERE id = ?`, id).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke token %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: revoke token %q: %w", id, err)
		}
		if revoked != zeroTime {
			return fmt.Errorf("revoke token %q: revoked at %v: %w", id, colTime(revoked), store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE id = ?`, timeCol(at), id); err != nil {
			return fmt.Errorf("sqlite: revoke token %q: %w", id, err)
		}
		return nil
	})
}

// AddLoginSession stores sess; ErrExists when its hash is taken,
// ErrNotFound when its principal is not.
func (s *Store) AddLoginSession(ctx context.Context, sess store.LoginSession) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO login_sessions (hash, principal, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
			sess.Hash, sess.Principal, blobCol(sess.CSRF), timeCol(sess.Created), timeCol(sess.Expires))
		if err != nil {
			return constraint(err, "add login session of "+sess.Principal)
		}
		return nil
	})
}

// LoginSession is the login session whose cookie hashes to hash, expired
// or not: the caller judges it.
func (s *Store) LoginSession(ctx context.Context, hash []byte) (store.LoginSession, error) {
	var (
		ls               store.LoginSession
		created, expires int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT hash, principal, csrf, created, expires FROM login_sessions WHERE hash = ?`, hash).
		Scan(colBlob{&ls.Hash}, &ls.Principal, colBlob{&ls.CSRF}, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.LoginSession{}, fmt.Errorf("login session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.LoginSession{}, fmt.Errorf("sqlite: login session: %w", err)
	}
	ls.Created, ls.Expires = colTime(created), colTime(expires)
	return ls, nil
}

// DeleteLoginSession ends a login session; ErrNotFound when there is none.
func (s *Store) DeleteLoginSession(ctx context.Context, hash []byte) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE hash = ?`, hash)
		if err != nil {
			return fmt.Errorf("sqlite: delete login session: %w", err)
		}
		return oneRow(res, "delete login session")
	})
}
