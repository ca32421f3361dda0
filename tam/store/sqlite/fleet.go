package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// The fleet's tables (migrations/0002_fleet.sql): tags, groups, releases,
// rollouts and deliveries. Every state change of a rollout or a delivery
// is one conditional UPDATE, so that of two writers (two Stores on one
// file, or two replicas) exactly one wins; the loser reads why inside the
// same transaction.

// jsonList keeps a list as JSON, nil as NULL.
func jsonList[T any](v []T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode: %w", err)
	}
	return b, nil
}

// colJSONList scans a JSON list, NULL as nil.
type colJSONList[T any] struct{ dst *[]T }

func (c colJSONList[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.dst = nil
		return nil
	case []byte:
		out := []T{}
		if err := json.Unmarshal(v, &out); err != nil {
			return fmt.Errorf("sqlite: decode %T: %w", c.dst, err)
		}
		*c.dst = out
		return nil
	default:
		return fmt.Errorf("sqlite: %T in a JSON column", src)
	}
}

// SetTags replaces the tags of a registered device.
func (s *Store) SetTags(ctx context.Context, device string, tags []string) error {
	if err := store.ValidateTags(tags); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := deviceExists(ctx, tx, device); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM device_tags WHERE device = ?`, device); err != nil {
			return fmt.Errorf("sqlite: set tags of %q: %w", device, err)
		}
		for _, tg := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO device_tags (device, tag) VALUES (?, ?)`, device, tg); err != nil {
				return fmt.Errorf("sqlite: set tags of %q: %w", device, err)
			}
		}
		return nil
	})
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func deviceExists(ctx context.Context, q rowQuerier, device string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE id = ?`, device).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: device %q: %w", device, err)
	}
	if n == 0 {
		return fmt.Errorf("device %q: %w", device, store.ErrNotFound)
	}
	return nil
}

func scanString(sc interface{ Scan(...any) error }) (string, error) {
	var v string
	err := sc.Scan(&v)
	return v, err
}

// Tags are a registered device's tags, sorted.
func (s *Store) Tags(ctx context.Context, device string) ([]string, error) {
	if err := deviceExists(ctx, s.r, device); err != nil {
		return nil, err
	}
	return list(ctx, s.r, scanString, `SELECT tag FROM device_tags WHERE device = ? ORDER BY tag`, device)
}

// TaggedDevices are the devices holding tag, by ID.
func (s *Store) TaggedDevices(ctx context.Context, tag string) ([]string, error) {
	return list(ctx, s.r, scanString, `SELECT device FROM device_tags WHERE tag = ? ORDER BY device`, tag)
}

// AddGroup stores g.
func (s *Store) AddGroup(ctx context.Context, g store.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	members, err := jsonList(g.Members)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, m := range g.Members {
			if err := deviceExists(ctx, tx, m); err != nil {
				return fmt.Errorf("add group %q: %w", g.Name, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO device_groups (name, members, model, version, tag, created) VALUES (?, ?, ?, ?, ?, ?)`,
			g.Name, members, g.Selector.Model, g.Selector.Version, g.Selector.Tag, timeCol(g.Created))
		if err != nil {
			return constraint(err, "add group "+g.Name)
		}
		return nil
	})
}

const groupCols = `name, members, model, version, tag, created`

func scanGroup(sc interface{ Scan(...any) error }) (store.Group, error) {
	var (
		g       store.Group
		created int64
	)
	if err := sc.Scan(&g.Name, colJSONList[string]{&g.Members}, &g.Selector.Model, &g.Selector.Version, &g.Selector.Tag, &created); err != nil {
		return store.Group{}, err
	}
	g.Created = colTime(created)
	return g, nil
}

// Group is the group named name.
func (s *Store) Group(ctx context.Context, name string) (store.Group, error) {
	return lookup(s.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM device_groups WHERE name = ?`, name), scanGroup, "group "+name)
}

// ListGroups is every group, by name.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	return list(ctx, s.r, scanGroup, `SELECT `+groupCols+` FROM device_groups ORDER BY name`)
}

// lookup scans the row of a lookup: ErrNotFound when there is none.
func lookup[T any](row *sql.Row, scan func(interface{ Scan(...any) error }) (T, error), what string) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return v, nil
}

// AddRelease stores r; every envelope must be stored.
func (s *Store) AddRelease(ctx context.Context, r store.Release) error {
	if err := r.Validate(); err != nil {
		return err
	}
	envs, err := jsonList(r.Envelopes)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, d := range r.Envelopes {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM envelopes WHERE digest = ?`, d).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: add release %q: %w", r.Name, err)
			}
			if n == 0 {
				return fmt.Errorf("add release %q: envelope %x: %w", r.Name, d, store.ErrNotFound)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO releases (name, envelopes, created) VALUES (?, ?, ?)`, r.Name, envs, timeCol(r.Created))
		if err != nil {
			return constraint(err, "add release "+r.Name)
		}
		return nil
	})
}

func scanRelease(sc interface{ Scan(...any) error }) (store.Release, error) {
	var (
		r       store.Release
		created int64
	)
	if err := sc.Scan(&r.Name, colJSONList[[]byte]{&r.Envelopes}, &created); err != nil {
		return store.Release{}, err
	}
	r.Created = colTime(created)
	return r, nil
}

// Release is the release named name.
func (s *Store) Release(ctx context.Context, name string) (store.Release, error) {
	return lookup(s.r.QueryRowContext(ctx, `SELECT name, envelopes, created FROM releases WHERE name = ?`, name), scanRelease, "release "+name)
}

// ListReleases is every release, by name.
func (s *Store) ListReleases(ctx context.Context) ([]store.Release, error) {
	return list(ctx, s.r, scanRelease, `SELECT name, envelopes, created FROM releases ORDER BY name`)
}

// CreateRollout stores r and its pending deliveries in one transaction.
func (s *Store) CreateRollout(ctx context.Context, r store.Rollout, devices []string) error {
	if err := errors.Join(r.Validate(), store.ValidateRolloutDevices(r, devices)); err != nil {
		return err
	}
	if r.State != store.RolloutRunning || r.Wave != 0 {
		return fmt.Errorf("%w: rollout %q created %s at wave %d, not running at wave 0", store.ErrInvalid, r.ID, r.State, r.Wave)
	}
	waves, err := jsonList(r.Waves)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rollouts (`+rolloutCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Group, r.Release, waves, r.SuccessThreshold, r.ErrorThreshold, string(r.State), r.Wave, r.Reason, timeCol(r.Created), timeCol(r.Updated))
		if err != nil {
			return constraint(err, "create rollout "+r.ID)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (rollout, device, wave, state, token, sends, detail, updated) VALUES (?, ?, ?, ?, NULL, 0, '', ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: create rollout %q: %w", r.ID, err)
		}
		defer ins.Close()
		i := 0
		for wave, n := range r.Waves {
			for _, d := range devices[i : i+n] {
				if _, err := ins.ExecContext(ctx, r.ID, d, wave, string(store.DeliveryPending), timeCol(r.Created)); err != nil {
					return constraint(err, fmt.Sprintf("create rollout %q: delivery to %q", r.ID, d))
				}
			}
			i += n
		}
		return nil
	})
}

const rolloutCols = `id, grp, release, waves, success_threshold, error_threshold, state, wave, reason, created, updated`

func scanRollout(sc interface{ Scan(...any) error }) (store.Rollout, error) {
	var (
		r                store.Rollout
		state            string
		created, updated int64
	)
	if err := sc.Scan(&r.ID, &r.Group, &r.Release, colJSONList[int]{&r.Waves}, &r.SuccessThreshold, &r.ErrorThreshold, &state, &r.Wave, &r.Reason, &created, &updated); err != nil {
		return store.Rollout{}, err
	}
	r.State, r.Created, r.Updated = store.RolloutState(state), colTime(created), colTime(updated)
	return r, nil
}

// Rollout is the rollout id.
func (s *Store) Rollout(ctx context.Context, id string) (store.Rollout, error) {
	return lookup(s.r.QueryRowContext(ctx, `SELECT `+rolloutCols+` FROM rollouts WHERE id = ?`, id), scanRollout, "rollout "+id)
}

// ListRollouts is every rollout, by Created, then ID.
func (s *Store) ListRollouts(ctx context.Context) ([]store.Rollout, error) {
	return list(ctx, s.r, scanRollout, `SELECT `+rolloutCols+` FROM rollouts ORDER BY created, id`)
}

// SetRolloutState moves the rollout from from to to if it is in from.
func (s *Store) SetRolloutState(ctx context.Context, id string, from, to store.RolloutState, reason string, now time.Time) error {
	if err := errors.Join(store.ValidRolloutMove(from, to), store.ValidText("rollout reason", reason, store.MaxText), store.ValidTime("now", now)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rollouts SET state = ?, reason = ?, updated = ? WHERE id = ? AND state = ?`,
			string(to), reason, timeCol(now), id, string(from))
		if err != nil {
			return fmt.Errorf("sqlite: rollout %q to %s: %w", id, to, err)
		}
		if ok, err := changedOne(res); err != nil || ok {
			return err
		}
		r, err := lookup(tx.QueryRowContext(ctx, `SELECT `+rolloutCols+` FROM rollouts WHERE id = ?`, id), scanRollout, "rollout "+id)
		if err != nil {
			return err
		}
		return fmt.Errorf("rollout %q from %s to %s: it is %s: %w", id, from, to, r.State, store.ErrConflict)
	})
}

// AdvanceWave starts wave from+1 if the rollout runs at wave from.
func (s *Store) AdvanceWave(ctx context.Context, id string, from int, now time.Time) error {
	if err := store.ValidTime("now", now); err != nil {
		return err
	}
	if from < 0 || from+1 >= store.MaxWaves {
		return fmt.Errorf("%w: rollout %q: no wave after %d", store.ErrInvalid, id, from)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rollouts SET wave = wave + 1, updated = ?
			WHERE id = ? AND state = ? AND wave = ? AND json_array_length(waves) > ?`,
			timeCol(now), id, string(store.RolloutRunning), from, from+1)
		if err != nil {
			return fmt.Errorf("sqlite: advance rollout %q: %w", id, err)
		}
		if ok, err := changedOne(res); err != nil || ok {
			return err
		}
		r, err := lookup(tx.QueryRowContext(ctx, `SELECT `+rolloutCols+` FROM rollouts WHERE id = ?`, id), scanRollout, "rollout "+id)
		if err != nil {
			return err
		}
		return fmt.Errorf("advance rollout %q from wave %d: it is %s at wave %d of %d: %w", id, from, r.State, r.Wave, len(r.Waves), store.ErrConflict)
	})
}

func changedOne(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: rows affected: %w", err)
	}
	return n == 1, nil
}

const deliveryCols = `rollout, device, wave, state, token, sends, detail, updated`

func scanDelivery(sc interface{ Scan(...any) error }) (store.Delivery, error) {
	var (
		d       store.Delivery
		state   string
		updated int64
	)
	if err := sc.Scan(&d.Rollout, &d.Device, &d.Wave, &state, colBlob{&d.Token}, &d.Sends, &d.Detail, &updated); err != nil {
		return store.Delivery{}, err
	}
	d.State, d.Updated = store.DeliveryState(state), colTime(updated)
	return d, nil
}

// Delivery is the delivery of rollout to device.
func (s *Store) Delivery(ctx context.Context, rollout, device string) (store.Delivery, error) {
	return lookup(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE rollout = ? AND device = ?`, rollout, device),
		scanDelivery, fmt.Sprintf("delivery of %q to %q", rollout, device))
}

// Deliveries are a rollout's deliveries, by wave then device.
func (s *Store) Deliveries(ctx context.Context, rollout string) ([]store.Delivery, error) {
	if _, err := s.Rollout(ctx, rollout); err != nil {
		return nil, err
	}
	return list(ctx, s.r, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries WHERE rollout = ? ORDER BY wave, device`, rollout)
}

// DeliveriesOf are every delivery of a device, by rollout ID.
func (s *Store) DeliveriesOf(ctx context.Context, device string) ([]store.Delivery, error) {
	return list(ctx, s.r, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries WHERE device = ? ORDER BY rollout`, device)
}

// MoveDelivery replaces the delivery's state with next's if it is in
// state from with token token.
func (s *Store) MoveDelivery(ctx context.Context, next store.Delivery, from store.DeliveryState, token []byte) error {
	if err := errors.Join(next.Validate(), store.ValidDeliveryMove(from, next.State)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := moveDelivery(ctx, tx, next, from, token); err != nil || ok {
			return err
		}
		what := fmt.Sprintf("delivery of %q to %q", next.Rollout, next.Device)
		cur, err := lookup(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE rollout = ? AND device = ?`, next.Rollout, next.Device), scanDelivery, what)
		if err != nil {
			return err
		}
		if cur.Wave != next.Wave {
			return fmt.Errorf("%w: %s is in wave %d, not %d", store.ErrInvalid, what, cur.Wave, next.Wave)
		}
		return fmt.Errorf("move %s from %s: it is %s (token %x): %w", what, from, cur.State, cur.Token, store.ErrConflict)
	})
}

// moveDelivery is MoveDelivery's compare-and-set in tx; false when the
// delivery is not in state from with token.
func moveDelivery(ctx context.Context, tx *sql.Tx, next store.Delivery, from store.DeliveryState, token []byte) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, token = ?, sends = ?, detail = ?, updated = ?
		WHERE rollout = ? AND device = ? AND wave = ? AND state = ? AND token IS ?`,
		string(next.State), blobCol(next.Token), next.Sends, next.Detail, timeCol(next.Updated),
		next.Rollout, next.Device, next.Wave, string(from), blobCol(token))
	if err != nil {
		return false, fmt.Errorf("sqlite: move delivery of %q to %q: %w", next.Rollout, next.Device, err)
	}
	return changedOne(res)
}

// Progress counts a rollout's deliveries by wave and state.
func (s *Store) Progress(ctx context.Context, rollout string) ([]store.WaveProgress, error) {
	r, err := s.Rollout(ctx, rollout)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT wave, state, count(*) FROM deliveries WHERE rollout = ? GROUP BY wave, state`, rollout)
	if err != nil {
		return nil, fmt.Errorf("sqlite: progress of %q: %w", rollout, err)
	}
	defer rows.Close()
	out := make([]store.WaveProgress, len(r.Waves))
	for i := range out {
		out[i].Wave = i
	}
	for rows.Next() {
		var (
			wave, n int
			state   string
		)
		if err := rows.Scan(&wave, &state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: progress of %q: %w", rollout, err)
		}
		if wave < 0 || wave >= len(out) {
			return nil, fmt.Errorf("sqlite: progress of %q: a delivery in wave %d of %d", rollout, wave, len(out))
		}
		p := &out[wave]
		p.Devices += n
		switch store.DeliveryState(state) {
		case store.DeliveryPending:
			p.Pending += n
		case store.DeliverySent:
			p.Sent += n
		case store.DeliveryInstalled:
			p.Installed += n
		case store.DeliverySucceeded:
			p.Succeeded += n
		case store.DeliveryFailed:
			p.Failed += n
		default:
			return nil, fmt.Errorf("sqlite: progress of %q: unknown delivery state %q", rollout, state)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: progress of %q: %w", rollout, err)
	}
	return slices.Clip(out), nil
}
