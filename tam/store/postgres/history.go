package postgres

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// logSession appends r to its device's session log in tx and drops the
// entries beyond the newest store.MaxSessionLog.
func logSession(ctx context.Context, tx pgx.Tx, r store.SessionRecord) error {
	envs, err := listCol(r.Envelopes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO session_log (device, started, ended, numbering, outcome, detail, envelopes) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.Device, timeCol(r.Started), timeCol(r.Ended), int16(r.Numbering), string(r.Outcome), r.Detail, envs)
	if err != nil {
		return constraint(err, "log session of device "+r.Device)
	}
	return pruneSessionLog(ctx, tx, r.Device)
}

// pruneSessionLog drops a device's session log entries beyond the newest
// store.MaxSessionLog (the order SessionLog reads them in). Replicas
// logging for one device at once each prune; the log may hold one entry
// per racer over the bound until the next.
func pruneSessionLog(ctx context.Context, tx pgx.Tx, device string) error {
	_, err := tx.Exec(ctx, `DELETE FROM session_log WHERE device = $1 AND id NOT IN
		(SELECT id FROM session_log WHERE device = $1 ORDER BY ended DESC, id DESC LIMIT $2)`, device, store.MaxSessionLog)
	if err != nil {
		return fmt.Errorf("postgres: prune the session log of %q: %w", device, err)
	}
	return nil
}

// expiredDetail is the detail of an expired session's log entry.
const expiredDetail = "its Update got no answer"

// deleteExpiredSessions drops, in tx, the sessions expired at now and logs
// those whose Update got no answer; it says how many it dropped. The rows
// come from the DELETE itself: of replicas sweeping at once, each logs
// only the sessions it deleted, so none is logged twice.
func deleteExpiredSessions(ctx context.Context, tx pgx.Tx, now int64) (int, error) {
	rows, err := tx.Query(ctx, `DELETE FROM sessions WHERE expires <= $1 RETURNING `+sessionCols, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	var expired []store.Session
	n := 0
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: delete expired sessions: %w", err)
		}
		n++
		if sess.State == store.UpdateSent && sess.Device != "" {
			expired = append(expired, sess)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres: delete expired sessions: %w", err)
	}
	// Logged in the order SQLite logs them: by expiry, then token.
	sort.Slice(expired, func(i, j int) bool {
		if !expired[i].Expires.Equal(expired[j].Expires) {
			return expired[i].Expires.Before(expired[j].Expires)
		}
		return bytes.Compare(expired[i].Token, expired[j].Token) < 0
	})
	pruned := map[string]bool{}
	for _, sess := range expired {
		envs, err := listCol(sess.Envelopes)
		if err != nil {
			return 0, err
		}
		// A session of a device that is not registered has no log.
		_, err = tx.Exec(ctx, `INSERT INTO session_log (device, started, ended, numbering, outcome, detail, envelopes)
			SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1)`,
			sess.Device, timeCol(sess.Created), timeCol(sess.Expires), int16(sess.Numbering), string(store.OutcomeExpired), expiredDetail, envs)
		if err != nil {
			return 0, fmt.Errorf("postgres: log expired session of %q: %w", sess.Device, err)
		}
		pruned[sess.Device] = true
	}
	for d := range pruned {
		if err := pruneSessionLog(ctx, tx, d); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// SessionLog is the last limit sessions of a device, newest first.
func (s *Store) SessionLog(ctx context.Context, device string, limit int) ([]store.SessionRecord, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: session log limit %d", store.ErrInvalid, limit)
	}
	var registered bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1)`, device).Scan(&registered); err != nil {
		return nil, fmt.Errorf("postgres: session log of %q: %w", device, err)
	}
	if !registered {
		return nil, fmt.Errorf("session log: device %q: %w", device, store.ErrNotFound)
	}
	return list(ctx, s.pool, scanSessionRecord, `SELECT device, started, ended, numbering, outcome, detail, envelopes FROM session_log
		WHERE device = $1 ORDER BY ended DESC, id DESC LIMIT $2`, device, min(limit, store.MaxPage))
}

func scanSessionRecord(sc scanner) (store.SessionRecord, error) {
	var (
		r              store.SessionRecord
		started, ended int64
		numbering      int16
		outcome        string
		envs           []byte
	)
	if err := sc.Scan(&r.Device, &started, &ended, &numbering, &outcome, &r.Detail, &envs); err != nil {
		return store.SessionRecord{}, err
	}
	l, err := colList[[]byte](envs)
	if err != nil {
		return store.SessionRecord{}, err
	}
	r.Started, r.Ended, r.Numbering, r.Outcome, r.Envelopes = colTime(started), colTime(ended), uint8(numbering), store.SessionOutcome(outcome), l
	return r, nil
}
