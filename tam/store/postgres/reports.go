package postgres

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// AddReport appends r to its device's reports; ErrNotFound when the device
// is not registered.
func (s *Store) AddReport(ctx context.Context, r store.Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	envs, err := listCol(r.Envelopes)
	if err != nil {
		return err
	}
	reports, err := listCol(r.SUITReports)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, "add report of device "+r.Device, addReportSQL, r.Device, timeCol(r.Time), r.Success, envs, reports, int64(r.ErrCode), r.ErrMsg)
	return err
}

const addReportSQL = `INSERT INTO reports (device, time, success, envelopes, suit_reports, err_code, err_msg) VALUES ($1, $2, $3, $4, $5, $6, $7)`

// Reports are the last limit reports of a device, newest first (by Time,
// then the later added); limit is clamped to store.MaxPage, and must be
// positive. ErrNotFound when the device is not registered.
func (s *Store) Reports(ctx context.Context, device string, limit int) ([]store.Report, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: reports limit %d", store.ErrInvalid, limit)
	}
	var registered bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM devices WHERE id = $1)`, device).Scan(&registered); err != nil {
		return nil, fmt.Errorf("postgres: reports of %q: %w", device, err)
	}
	if !registered {
		return nil, fmt.Errorf("reports: device %q: %w", device, store.ErrNotFound)
	}
	return list(ctx, s.pool, scanReport, `SELECT device, time, success, envelopes, suit_reports, err_code, err_msg FROM reports
		WHERE device = $1 ORDER BY time DESC, id DESC LIMIT $2`, device, min(limit, store.MaxPage))
}

func scanReport(sc scanner) (store.Report, error) {
	var (
		r             store.Report
		at, code      int64
		envs, reports []byte
	)
	if err := sc.Scan(&r.Device, &at, &r.Success, &envs, &reports, &code, &r.ErrMsg); err != nil {
		return store.Report{}, err
	}
	el, err := colList[[]byte](envs)
	if err != nil {
		return store.Report{}, err
	}
	rl, err := colList[[]byte](reports)
	if err != nil {
		return store.Report{}, err
	}
	r.Time, r.Envelopes, r.SUITReports, r.ErrCode = colTime(at), el, rl, uint64(code)
	return r, nil
}
