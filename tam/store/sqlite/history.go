package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// logSession appends r to its device's session log in tx and drops the
// entries beyond the newest store.MaxSessionLog.
func logSession(ctx context.Context, tx *sql.Tx, r store.SessionRecord) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO session_log (device, started, ended, numbering, outcome, detail, envelopes) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Device, timeCol(r.Started), timeCol(r.Ended), int64(r.Numbering), string(r.Outcome), r.Detail, bytesListCol(r.Envelopes))
	if err != nil {
		return constraint(err, "log session of device "+r.Device)
	}
	return pruneSessionLog(ctx, tx, r.Device)
}

// pruneSessionLog drops a device's session log entries beyond the newest
// store.MaxSessionLog (the order SessionLog reads them in).
func pruneSessionLog(ctx context.Context, tx *sql.Tx, device string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM session_log WHERE device = ? AND id NOT IN
		(SELECT id FROM session_log WHERE device = ? ORDER BY ended DESC, id DESC LIMIT ?)`, device, device, store.MaxSessionLog)
	if err != nil {
		return fmt.Errorf("sqlite: prune the session log of %q: %w", device, err)
	}
	return nil
}

// logExpiredSessions logs, in tx, each session expired at now whose
// Update got no answer (a session still waiting for a QueryResponse names
// no device).
func logExpiredSessions(ctx context.Context, tx *sql.Tx, now int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT device FROM sessions WHERE expires <= ? AND state = ? AND device != ''`,
		now, string(store.UpdateSent))
	if err != nil {
		return fmt.Errorf("sqlite: expired sessions: %w", err)
	}
	var devices []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: expired sessions: %w", err)
		}
		devices = append(devices, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: expired sessions: %w", err)
	}
	if len(devices) == 0 {
		return nil
	}
	// A session of a device that is not registered (never, in this
	// store) has no log to go to.
	_, err = tx.ExecContext(ctx, `INSERT INTO session_log (device, started, ended, numbering, outcome, detail, envelopes)
		SELECT device, created, expires, numbering, ?, ?, envelopes FROM sessions
		WHERE expires <= ? AND state = ? AND device IN (SELECT id FROM devices) ORDER BY expires, token`,
		string(store.OutcomeExpired), expiredDetail, now, string(store.UpdateSent))
	if err != nil {
		return fmt.Errorf("sqlite: log expired sessions: %w", err)
	}
	for _, d := range devices {
		if err := pruneSessionLog(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

// expiredDetail is the detail of an expired session's log entry.
const expiredDetail = "its Update got no answer"

// SessionLog is the last limit sessions of a device, newest first.
func (s *Store) SessionLog(ctx context.Context, device string, limit int) ([]store.SessionRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: session log limit %d", store.ErrInvalid, limit)
	}
	if _, err := s.Device(ctx, device); err != nil {
		return nil, err
	}
	return list(ctx, s.r, scanSessionRecord, `SELECT device, started, ended, numbering, outcome, detail, envelopes FROM session_log
		WHERE device = ? ORDER BY ended DESC, id DESC LIMIT ?`, device, min(limit, store.MaxPage))
}

func scanSessionRecord(sc interface{ Scan(...any) error }) (store.SessionRecord, error) {
	var (
		r                     store.SessionRecord
		started, ended, numbr int64
		outcome               string
		envs                  [][]byte
	)
	if err := sc.Scan(&r.Device, &started, &ended, &numbr, &outcome, &r.Detail, colBytesList(&envs)); err != nil {
		return store.SessionRecord{}, err
	}
	r.Started, r.Ended, r.Numbering, r.Outcome, r.Envelopes = colTime(started), colTime(ended), uint8(numbr), store.SessionOutcome(outcome), envs
	return r, nil
}
