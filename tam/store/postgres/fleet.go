package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// The fleet's tables (migrations/0002_fleet.sql): tags, groups, releases,
// rollouts and deliveries. Every state change of a rollout or a delivery
// is one conditional UPDATE ... WHERE state = $from: of replicas racing,
// PostgreSQL lets one change the row and re-checks the condition of the
// others on the row it committed, so exactly one wins; a loser reads why.

// SetTags replaces the tags of a registered device. The device's row is
// locked first (SELECT ... FOR UPDATE), so two replicas setting tags of
// one device at once take turns instead of colliding on the tag rows.
func (s *Store) SetTags(ctx context.Context, device string, tags []string) error {
	if err := store.ValidateTags(tags); err != nil {
		return err
	}
	what := fmt.Sprintf("set tags of %q", device)
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := deviceExists(ctx, tx, device, " FOR UPDATE"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM device_tags WHERE device = $1`, device); err != nil {
			return constraint(err, what)
		}
		if len(tags) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO device_tags (device, tag) SELECT $1, unnest($2::text[])`, device, tags); err != nil {
			return constraint(err, what)
		}
		return nil
	})
}

// deviceExists is ErrNotFound unless device is registered; lock is "" or
// a locking clause for its row.
func deviceExists(ctx context.Context, q querier, device, lock string) error {
	var n int
	err := q.QueryRow(ctx, `SELECT 1 FROM devices WHERE id = $1`+lock, device).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("device %q: %w", device, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: device %q: %w", device, err)
	}
	return nil
}

func scanString(sc scanner) (v string, err error) { return v, sc.Scan(&v) }

// Tags are a registered device's tags, sorted.
func (s *Store) Tags(ctx context.Context, device string) ([]string, error) {
	if err := deviceExists(ctx, s.pool, device, ""); err != nil {
		return nil, err
	}
	return list(ctx, s.pool, scanString, `SELECT tag FROM device_tags WHERE device = $1 ORDER BY tag`, device)
}

// TaggedDevices are the devices holding tag, by ID.
func (s *Store) TaggedDevices(ctx context.Context, tag string) ([]string, error) {
	return list(ctx, s.pool, scanString, `SELECT device FROM device_tags WHERE tag = $1 ORDER BY device`, tag)
}

// AddGroup stores g; every member must be a registered device.
func (s *Store) AddGroup(ctx context.Context, g store.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	members, err := listCol(g.Members)
	if err != nil {
		return err
	}
	what := "add group " + g.Name
	return s.write(ctx, func(tx pgx.Tx) error {
		if g.Members != nil {
			var missing *string
			if err := tx.QueryRow(ctx, `SELECT m FROM unnest($1::text[]) AS m WHERE NOT EXISTS (SELECT 1 FROM devices WHERE id = m) LIMIT 1`, g.Members).Scan(&missing); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return constraint(err, what)
			}
			if missing != nil {
				return fmt.Errorf("%s: device %q: %w", what, *missing, store.ErrNotFound)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO device_groups (name, members, model, version, tag, created) VALUES ($1, $2, $3, $4, $5, $6)`,
			g.Name, members, g.Selector.Model, g.Selector.Version, g.Selector.Tag, timeCol(g.Created))
		if err != nil {
			return constraint(err, what)
		}
		return nil
	})
}

const groupCols = `name, members, model, version, tag, created`

func scanGroup(sc scanner) (store.Group, error) {
	var (
		g       store.Group
		members []byte
		created int64
	)
	if err := sc.Scan(&g.Name, &members, &g.Selector.Model, &g.Selector.Version, &g.Selector.Tag, &created); err != nil {
		return store.Group{}, err
	}
	ms, err := colList[string](members)
	if err != nil {
		return store.Group{}, err
	}
	g.Members, g.Created = ms, colTime(created)
	return g, nil
}

// Group is the group named name.
func (s *Store) Group(ctx context.Context, name string) (store.Group, error) {
	return one(ctx, s.pool, scanGroup, "group "+name, `SELECT `+groupCols+` FROM device_groups WHERE name = $1`, name)
}

// ListGroups is every group, by name.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	return list(ctx, s.pool, scanGroup, `SELECT `+groupCols+` FROM device_groups ORDER BY name`)
}

// AddRelease stores r; every envelope must be stored.
func (s *Store) AddRelease(ctx context.Context, r store.Release) error {
	if err := r.Validate(); err != nil {
		return err
	}
	envs, err := listCol(r.Envelopes)
	if err != nil {
		return err
	}
	what := "add release " + r.Name
	return s.write(ctx, func(tx pgx.Tx) error {
		var missing []byte
		if err := tx.QueryRow(ctx, `SELECT d FROM unnest($1::bytea[]) AS d WHERE NOT EXISTS (SELECT 1 FROM envelopes WHERE digest = d) LIMIT 1`, r.Envelopes).Scan(&missing); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return constraint(err, what)
		}
		if missing != nil {
			return fmt.Errorf("%s: envelope %x: %w", what, missing, store.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO releases (name, envelopes, created) VALUES ($1, $2, $3)`, r.Name, envs, timeCol(r.Created)); err != nil {
			return constraint(err, what)
		}
		return nil
	})
}

func scanRelease(sc scanner) (store.Release, error) {
	var (
		r       store.Release
		envs    []byte
		created int64
	)
	if err := sc.Scan(&r.Name, &envs, &created); err != nil {
		return store.Release{}, err
	}
	l, err := colList[[]byte](envs)
	if err != nil {
		return store.Release{}, err
	}
	r.Envelopes, r.Created = l, colTime(created)
	return r, nil
}

// Release is the release named name.
func (s *Store) Release(ctx context.Context, name string) (store.Release, error) {
	return one(ctx, s.pool, scanRelease, "release "+name, `SELECT name, envelopes, created FROM releases WHERE name = $1`, name)
}

// ListReleases is every release, by name.
func (s *Store) ListReleases(ctx context.Context) ([]store.Release, error) {
	return list(ctx, s.pool, scanRelease, `SELECT name, envelopes, created FROM releases ORDER BY name`)
}

// CreateRollout stores r and its pending deliveries in one transaction
// (the deliveries in one INSERT of the unnested device list).
func (s *Store) CreateRollout(ctx context.Context, r store.Rollout, devices []string) error {
	if err := errors.Join(r.Validate(), store.ValidateRolloutDevices(r, devices)); err != nil {
		return err
	}
	if r.State != store.RolloutRunning || r.Wave != 0 {
		return fmt.Errorf("%w: rollout %q created %s at wave %d, not running at wave 0", store.ErrInvalid, r.ID, r.State, r.Wave)
	}
	waves, err := listCol(r.Waves)
	if err != nil {
		return err
	}
	waveOf := make([]int32, 0, len(devices))
	for w, n := range r.Waves {
		for range n {
			waveOf = append(waveOf, int32(w))
		}
	}
	what := "create rollout " + r.ID
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO rollouts (`+rolloutCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.ID, r.Group, r.Release, waves, r.SuccessThreshold, r.ErrorThreshold, string(r.State), r.Wave, r.Reason, timeCol(r.Created), timeCol(r.Updated))
		if err != nil {
			return constraint(err, what)
		}
		_, err = tx.Exec(ctx, `INSERT INTO deliveries (rollout, device, wave, state, token, sends, detail, updated)
			SELECT $1, d, w, $2, NULL, 0, '', $3 FROM unnest($4::text[], $5::int[]) AS t(d, w)`,
			r.ID, string(store.DeliveryPending), timeCol(r.Created), devices, waveOf)
		if err != nil {
			return constraint(err, what+": deliveries")
		}
		return nil
	})
}

const rolloutCols = `id, grp, release, waves, success_threshold, error_threshold, state, wave, reason, created, updated`

func scanRollout(sc scanner) (store.Rollout, error) {
	var (
		r                store.Rollout
		state            string
		waves            []byte
		created, updated int64
	)
	if err := sc.Scan(&r.ID, &r.Group, &r.Release, &waves, &r.SuccessThreshold, &r.ErrorThreshold, &state, &r.Wave, &r.Reason, &created, &updated); err != nil {
		return store.Rollout{}, err
	}
	ws, err := colList[int](waves)
	if err != nil {
		return store.Rollout{}, err
	}
	r.Waves, r.State, r.Created, r.Updated = ws, store.RolloutState(state), colTime(created), colTime(updated)
	return r, nil
}

// Rollout is the rollout id.
func (s *Store) Rollout(ctx context.Context, id string) (store.Rollout, error) {
	return rollout(ctx, s.pool, id)
}

func rollout(ctx context.Context, q querier, id string) (store.Rollout, error) {
	return one(ctx, q, scanRollout, "rollout "+id, `SELECT `+rolloutCols+` FROM rollouts WHERE id = $1`, id)
}

// ListRollouts is every rollout, by Created, then ID.
func (s *Store) ListRollouts(ctx context.Context) ([]store.Rollout, error) {
	return list(ctx, s.pool, scanRollout, `SELECT `+rolloutCols+` FROM rollouts ORDER BY created, id`)
}

// SetRolloutState moves the rollout from from to to if it is in from.
func (s *Store) SetRolloutState(ctx context.Context, id string, from, to store.RolloutState, reason string, now time.Time) error {
	if err := errors.Join(store.ValidRolloutMove(from, to), store.ValidText("rollout reason", reason, store.MaxText), store.ValidTime("now", now)); err != nil {
		return err
	}
	n, err := s.exec(ctx, fmt.Sprintf("rollout %q to %s", id, to), `UPDATE rollouts SET state = $1, reason = $2, updated = $3 WHERE id = $4 AND state = $5`,
		string(to), reason, timeCol(now), id, string(from))
	if err != nil || n == 1 {
		return err
	}
	r, err := s.Rollout(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("rollout %q from %s to %s: it is %s: %w", id, from, to, r.State, store.ErrConflict)
}

// AdvanceWave starts wave from+1 if the rollout runs at wave from.
func (s *Store) AdvanceWave(ctx context.Context, id string, from int, now time.Time) error {
	if err := store.ValidTime("now", now); err != nil {
		return err
	}
	if from < 0 || from+1 >= store.MaxWaves {
		return fmt.Errorf("%w: rollout %q: no wave after %d", store.ErrInvalid, id, from)
	}
	n, err := s.exec(ctx, fmt.Sprintf("advance rollout %q", id), `UPDATE rollouts SET wave = wave + 1, updated = $1
		WHERE id = $2 AND state = $3 AND wave = $4 AND jsonb_array_length(waves) > $5`,
		timeCol(now), id, string(store.RolloutRunning), from, from+1)
	if err != nil || n == 1 {
		return err
	}
	r, err := s.Rollout(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("advance rollout %q from wave %d: it is %s at wave %d of %d: %w", id, from, r.State, r.Wave, len(r.Waves), store.ErrConflict)
}

const deliveryCols = `rollout, device, wave, state, token, sends, detail, updated`

func scanDelivery(sc scanner) (store.Delivery, error) {
	var (
		d       store.Delivery
		state   string
		updated int64
	)
	if err := sc.Scan(&d.Rollout, &d.Device, &d.Wave, &state, &d.Token, &d.Sends, &d.Detail, &updated); err != nil {
		return store.Delivery{}, err
	}
	d.State, d.Updated = store.DeliveryState(state), colTime(updated)
	return d, nil
}

// Delivery is the delivery of rollout to device.
func (s *Store) Delivery(ctx context.Context, rollout, device string) (store.Delivery, error) {
	return one(ctx, s.pool, scanDelivery, fmt.Sprintf("delivery of %q to %q", rollout, device),
		`SELECT `+deliveryCols+` FROM deliveries WHERE rollout = $1 AND device = $2`, rollout, device)
}

// Deliveries are a rollout's deliveries, by wave then device.
func (s *Store) Deliveries(ctx context.Context, rollout string) ([]store.Delivery, error) {
	if _, err := s.Rollout(ctx, rollout); err != nil {
		return nil, err
	}
	return list(ctx, s.pool, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries WHERE rollout = $1 ORDER BY wave, device`, rollout)
}

// DeliveriesOf are every delivery of a device, by rollout ID.
func (s *Store) DeliveriesOf(ctx context.Context, device string) ([]store.Delivery, error) {
	return list(ctx, s.pool, scanDelivery, `SELECT `+deliveryCols+` FROM deliveries WHERE device = $1 ORDER BY rollout`, device)
}

// MoveDelivery replaces the delivery's state with next's if it is in
// state from with token token.
func (s *Store) MoveDelivery(ctx context.Context, next store.Delivery, from store.DeliveryState, token []byte) error {
	if err := errors.Join(next.Validate(), store.ValidDeliveryMove(from, next.State)); err != nil {
		return err
	}
	what := fmt.Sprintf("delivery of %q to %q", next.Rollout, next.Device)
	n, err := s.exec(ctx, "move "+what, moveDeliverySQL,
		string(next.State), next.Token, next.Sends, next.Detail, timeCol(next.Updated),
		next.Rollout, next.Device, next.Wave, string(from), token)
	if err != nil || n == 1 {
		return err
	}
	cur, err := s.Delivery(ctx, next.Rollout, next.Device)
	if err != nil {
		return err
	}
	if cur.Wave != next.Wave {
		return fmt.Errorf("%w: %s is in wave %d, not %d", store.ErrInvalid, what, cur.Wave, next.Wave)
	}
	return fmt.Errorf("move %s from %s: it is %s (token %x): %w", what, from, cur.State, cur.Token, store.ErrConflict)
}

// moveDeliverySQL is MoveDelivery's compare-and-set, shared with
// RecordAnswer.
const moveDeliverySQL = `UPDATE deliveries SET state = $1, token = $2, sends = $3, detail = $4, updated = $5
	WHERE rollout = $6 AND device = $7 AND wave = $8 AND state = $9 AND token IS NOT DISTINCT FROM $10`

// Progress counts a rollout's deliveries by wave and state.
func (s *Store) Progress(ctx context.Context, rollout string) ([]store.WaveProgress, error) {
	r, err := s.Rollout(ctx, rollout)
	if err != nil {
		return nil, err
	}
	type count struct {
		wave  int
		state string
		n     int
	}
	counts, err := list(ctx, s.pool, func(sc scanner) (c count, err error) { return c, sc.Scan(&c.wave, &c.state, &c.n) },
		`SELECT wave, state, count(*) FROM deliveries WHERE rollout = $1 GROUP BY wave, state`, rollout)
	if err != nil {
		return nil, fmt.Errorf("progress of %q: %w", rollout, err)
	}
	out := make([]store.WaveProgress, len(r.Waves))
	for i := range out {
		out[i].Wave = i
	}
	for _, c := range counts {
		if c.wave < 0 || c.wave >= len(out) {
			return nil, fmt.Errorf("postgres: progress of %q: a delivery in wave %d of %d", rollout, c.wave, len(out))
		}
		p := &out[c.wave]
		p.Devices += c.n
		switch store.DeliveryState(c.state) {
		case store.DeliveryPending:
			p.Pending += c.n
		case store.DeliverySent:
			p.Sent += c.n
		case store.DeliveryInstalled:
			p.Installed += c.n
		case store.DeliverySucceeded:
			p.Succeeded += c.n
		case store.DeliveryFailed:
			p.Failed += c.n
		default:
			return nil, fmt.Errorf("postgres: progress of %q: unknown delivery state %q", rollout, c.state)
		}
	}
	return slices.Clip(out), nil
}
