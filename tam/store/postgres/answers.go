package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// RecordAnswer stores a.Session, if the stored one is in state a.From and
// not expired at a.Now, with every change a holds, in one transaction.
// The session's conditional UPDATE comes first: of replicas racing with
// the same answer, one updates the row and the others wait for it,
// re-check the condition on the row it committed, and roll back.
func (s *Store) RecordAnswer(ctx context.Context, a store.Answer) error {
	if err := a.Validate(); err != nil {
		return err
	}
	sess, dev := a.Session, a.Session.Device
	envs, err := listCol(sess.Envelopes)
	if err != nil {
		return err
	}
	var reportEnvs, suitReports []byte
	if r := a.Report; r != nil {
		if reportEnvs, err = listCol(r.Envelopes); err != nil {
			return err
		}
		if suitReports, err = listCol(r.SUITReports); err != nil {
			return err
		}
	}
	what := fmt.Sprintf("record answer to session %x", sess.Token)
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, advanceSessionSQL,
			string(sess.State), sess.Device, sess.Challenge, int16(sess.Numbering), envs, timeCol(sess.Created), timeCol(sess.Expires),
			sess.Token, string(a.From), timeCol(a.Now))
		if err != nil {
			return constraint(err, what)
		}
		if tag.RowsAffected() != 1 {
			return whyNotAdvanced(ctx, tx, what, sess.Token, a.From)
		}
		changeDevice := func(what, query string, args ...any) error {
			tag, err := tx.Exec(ctx, query, args...)
			if err != nil {
				return constraint(err, fmt.Sprintf("%s of %q", what, dev))
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%s: device %q: %w", what, dev, store.ErrNotFound)
			}
			return nil
		}
		if a.RecordTCs {
			if err := recordTCs(ctx, tx, dev, a.TCs, a.Now); err != nil {
				return err
			}
		}
		if at := a.Attestation; at != nil {
			if err := changeDevice("record attestation", recordAttestationSQL, timeCol(at.Time), at.Status, at.EAR, at.Reason, dev); err != nil {
				return err
			}
		}
		if a.LastError != nil {
			if err := changeDevice("record error", recordErrorSQL, *a.LastError, dev); err != nil {
				return err
			}
		}
		if r := a.Report; r != nil {
			if _, err := tx.Exec(ctx, addReportSQL, r.Device, timeCol(r.Time), r.Success, reportEnvs, suitReports, int64(r.ErrCode), r.ErrMsg); err != nil {
				return constraint(err, "add report of device "+r.Device)
			}
		}
		if a.End != nil {
			if err := logSession(ctx, tx, a.End.Record(a.Session, a.Now)); err != nil {
				return err
			}
		}
		for _, m := range a.Deliveries {
			// A delivery another session or replica moved first keeps
			// its state: its outcome was recorded there.
			n := m.Next
			if _, err := tx.Exec(ctx, moveDeliverySQL, string(n.State), n.Token, n.Sends, n.Detail, timeCol(n.Updated),
				n.Rollout, n.Device, n.Wave, string(m.From), m.Token); err != nil {
				return constraint(err, fmt.Sprintf("move delivery of %q to %q", n.Rollout, n.Device))
			}
		}
		return nil
	})
}

// whyNotAdvanced is the error of a session's compare-and-set that changed
// nothing: ErrNotFound, or ErrConflict with the state or expiry it met.
func whyNotAdvanced(ctx context.Context, tx pgx.Tx, what string, token []byte, from store.SessionState) error {
	var (
		state   string
		expires int64
	)
	err := tx.QueryRow(ctx, `SELECT state, expires FROM sessions WHERE token = $1`, token).Scan(&state, &expires)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: %s: %w", what, err)
	case state != string(from):
		return fmt.Errorf("%s from %s: it is in %s: %w", what, from, state, store.ErrConflict)
	}
	return fmt.Errorf("%s: expired at %v: %w", what, colTime(expires), store.ErrConflict)
}
