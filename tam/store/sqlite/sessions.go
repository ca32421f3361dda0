package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// CreateSession stores s; ErrExists when its token is in use.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.Token, string(sess.State), sess.Device, blobCol(sess.Challenge), int64(sess.Numbering), bytesListCol(sess.Envelopes), timeCol(sess.Created), timeCol(sess.Expires))
		if err != nil {
			return constraint(err, fmt.Sprintf("create session %x", sess.Token))
		}
		return nil
	})
}

const sessionCols = `token, state, device, challenge, numbering, envelopes, created, expires`

func scanSession(sc interface{ Scan(...any) error }) (store.Session, error) {
	var (
		s                store.Session
		state            string
		numbering        int64
		envs             [][]byte
		created, expires int64
	)
	if err := sc.Scan(colBlob{&s.Token}, &state, &s.Device, colBlob{&s.Challenge}, &numbering, colBytesList(&envs), &created, &expires); err != nil {
		return store.Session{}, err
	}
	s.State, s.Numbering, s.Envelopes, s.Created, s.Expires = store.SessionState(state), uint8(numbering), envs, colTime(created), colTime(expires)
	return s, nil
}

// Session is the session stored under token, expired or not.
func (s *Store) Session(ctx context.Context, token []byte) (store.Session, error) {
	sess, err := scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session %x: %w", token, store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: session %x: %w", token, err)
	}
	return sess, nil
}

// AdvanceSession replaces the session under sess.Token with sess if the
// stored one is in state from and not expired at now (now before its
// Expires): one compare-and-set UPDATE, so of two callers advancing from
// the same state exactly one succeeds. ErrConflict otherwise, ErrNotFound
// when no session has that token.
func (s *Store) AdvanceSession(ctx context.Context, sess store.Session, from store.SessionState, now time.Time) error {
	if err := errors.Join(sess.Validate(), store.ValidAdvance(from, sess.State), store.ValidTime("now", now)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return advanceSession(ctx, tx, sess, from, now) })
}

// advanceSession is AdvanceSession's compare-and-set in tx.
func advanceSession(ctx context.Context, tx *sql.Tx, sess store.Session, from store.SessionState, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET state = ?, device = ?, challenge = ?, numbering = ?, envelopes = ?, created = ?, expires = ?
		WHERE token = ? AND state = ? AND expires > ?`,
		string(sess.State), sess.Device, blobCol(sess.Challenge), int64(sess.Numbering), bytesListCol(sess.Envelopes), timeCol(sess.Created), timeCol(sess.Expires),
		sess.Token, string(from), timeCol(now))
	if err != nil {
		return fmt.Errorf("sqlite: advance session %x: %w", sess.Token, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: advance session %x: %w", sess.Token, err)
	}
	if n == 1 {
		return nil
	}
	var (
		state   string
		expires int64
	)
	err = tx.QueryRowContext(ctx, `SELECT state, expires FROM sessions WHERE token = ?`, sess.Token).Scan(&state, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("advance session %x: %w", sess.Token, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: advance session %x: %w", sess.Token, err)
	}
	if state != string(from) {
		return fmt.Errorf("advance session %x from %s: it is in %s: %w", sess.Token, from, state, store.ErrConflict)
	}
	return fmt.Errorf("advance session %x: expired at %v: %w", sess.Token, colTime(expires), store.ErrConflict)
}

// DeleteExpiredSessions drops the sessions expired at now (Expires not
// after now) and says how many; in the same transaction, it logs the ones
// whose Update got no answer as expired.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := store.ValidTime("now", now); err != nil {
		return 0, err
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := logExpiredSessions(ctx, tx, timeCol(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, timeCol(now))
		if err != nil {
			return fmt.Errorf("sqlite: delete expired sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
