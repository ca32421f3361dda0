package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// AddReport appends r to its device's reports; ErrNotFound when the device
// is not registered.
func (s *Store) AddReport(ctx context.Context, r store.Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return addReport(ctx, tx, r) })
}

// addReport is AddReport's INSERT in tx.
func addReport(ctx context.Context, tx *sql.Tx, r store.Report) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO reports (device, time, success, envelopes, suit_reports, err_code, err_msg) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Device, timeCol(r.Time), r.Success, bytesListCol(r.Envelopes), bytesListCol(r.SUITReports), int64(r.ErrCode), r.ErrMsg)
	if err != nil {
		return constraint(err, "add report of device "+r.Device)
	}
	return nil
}

// Reports are the last limit reports of a device, newest first (by Time,
// then the later added); limit is clamped to store.MaxPage, and must be
// positive. ErrNotFound when the device is not registered.
func (s *Store) Reports(ctx context.Context, device string, limit int) ([]store.Report, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: reports limit %d", store.ErrInvalid, limit)
	}
	if _, err := s.Device(ctx, device); err != nil {
		return nil, err
	}
	return list(ctx, s.r, scanReport, `SELECT device, time, success, envelopes, suit_reports, err_code, err_msg FROM reports
		WHERE device = ? ORDER BY time DESC, id DESC LIMIT ?`, device, min(limit, store.MaxPage))
}

func scanReport(sc interface{ Scan(...any) error }) (store.Report, error) {
	var (
		r             store.Report
		at, code      int64
		envs, reports [][]byte
	)
	if err := sc.Scan(&r.Device, &at, &r.Success, colBytesList(&envs), colBytesList(&reports), &code, &r.ErrMsg); err != nil {
		return store.Report{}, err
	}
	r.Time, r.Envelopes, r.SUITReports, r.ErrCode = colTime(at), envs, reports, uint64(code)
	return r, nil
}
