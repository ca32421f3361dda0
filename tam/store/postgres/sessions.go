package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// CreateSession stores s; ErrExists when its token is in use.
func (s *Store) CreateSession(ctx context.Context, sess store.Session) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	envs, err := listCol(sess.Envelopes)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, fmt.Sprintf("create session %x", sess.Token), `INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		sess.Token, string(sess.State), sess.Device, sess.Challenge, int16(sess.Numbering), envs, timeCol(sess.Created), timeCol(sess.Expires))
	return err
}

const sessionCols = `token, state, device, challenge, numbering, envelopes, created, expires`

func scanSession(sc scanner) (store.Session, error) {
	var (
		s                store.Session
		state            string
		numbering        int16
		envs             []byte
		created, expires int64
	)
	if err := sc.Scan(&s.Token, &state, &s.Device, &s.Challenge, &numbering, &envs, &created, &expires); err != nil {
		return store.Session{}, err
	}
	l, err := colList[[]byte](envs)
	if err != nil {
		return store.Session{}, err
	}
	s.State, s.Numbering, s.Envelopes, s.Created, s.Expires = store.SessionState(state), uint8(numbering), l, colTime(created), colTime(expires)
	return s, nil
}

// Session is the session stored under token, expired or not.
func (s *Store) Session(ctx context.Context, token []byte) (store.Session, error) {
	return one(ctx, s.pool, scanSession, fmt.Sprintf("session %x", token), `SELECT `+sessionCols+` FROM sessions WHERE token = $1`, token)
}

// AdvanceSession replaces the session under sess.Token with sess if the
// stored one is in state from and not expired at now (now before its
// Expires): one conditional UPDATE. Of replicas racing, PostgreSQL lets one
// update the row; the others wait for it, re-check the condition on the
// row it committed, and change nothing. ErrConflict for them, ErrNotFound
// when no session has that token.
func (s *Store) AdvanceSession(ctx context.Context, sess store.Session, from store.SessionState, now time.Time) error {
	if err := errors.Join(sess.Validate(), store.ValidAdvance(from, sess.State), store.ValidTime("now", now)); err != nil {
		return err
	}
	envs, err := listCol(sess.Envelopes)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("advance session %x", sess.Token)
	n, err := s.exec(ctx, what, advanceSessionSQL,
		string(sess.State), sess.Device, sess.Challenge, int16(sess.Numbering), envs, timeCol(sess.Created), timeCol(sess.Expires),
		sess.Token, string(from), timeCol(now))
	if err != nil || n == 1 {
		return err
	}
	// Say why nothing changed.
	stored, err := one(ctx, s.pool, func(sc scanner) (st struct {
		state   string
		expires int64
	}, err error) {
		err = sc.Scan(&st.state, &st.expires)
		return st, err
	}, what, `SELECT state, expires FROM sessions WHERE token = $1`, sess.Token)
	if err != nil {
		return err
	}
	if stored.state != string(from) {
		return fmt.Errorf("%s from %s: it is in %s: %w", what, from, stored.state, store.ErrConflict)
	}
	return fmt.Errorf("%s: expired at %v: %w", what, colTime(stored.expires), store.ErrConflict)
}

// advanceSessionSQL is AdvanceSession's compare-and-set, shared with
// RecordAnswer.
const advanceSessionSQL = `UPDATE sessions SET state = $1, device = $2, challenge = $3, numbering = $4, envelopes = $5, created = $6, expires = $7
	WHERE token = $8 AND state = $9 AND expires > $10`

// DeleteExpiredSessions drops the sessions expired at now (Expires not
// after now) and says how many; in the same transaction, it logs the ones
// whose Update got no answer as expired.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := store.ValidTime("now", now); err != nil {
		return 0, err
	}
	var n int
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = deleteExpiredSessions(ctx, tx, timeCol(now))
		return err
	})
	return n, err
}
