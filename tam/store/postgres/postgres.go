// Package postgres is the TAM's store on PostgreSQL (github.com/jackc/pgx/v5
// and its pool) behind store.Store, for several TAM replicas sharing one
// database.
//
// Replicas: every compare-and-set (a session advanced, a token revoked) is
// one conditional UPDATE ... WHERE state = $from, which PostgreSQL
// serializes on the row: of two replicas racing, the second re-reads the
// row the first committed and changes nothing. Transactions run at READ
// COMMITTED and take the rows they change with SELECT ... FOR UPDATE where
// a change reads before it writes; a transaction that fails with a
// serialization failure or a deadlock is run again (a few times, bounded).
// The audit trail's appends are serialized (a transaction-scoped advisory
// lock), so that seq order is commit order and a reader paging by seq
// never skips an entry committed late.
//
// Schema: versioned migrations (migrate.go), applied by Open under an
// advisory lock, so replicas starting together migrate once. A database
// migrated by a newer binary is refused (*store.SchemaError).
//
// Roles: the audit table refuses UPDATE, DELETE and TRUNCATE by triggers,
// for every role. Its owner could drop them: run the migrations as the
// owning role once, then run the TAM as a role that owns nothing, granted
//
//	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tam;
//	REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM tam;
//	GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO tam;
//
// (TestAuditRefusesRawSQL proves both layers.)
//
// Trust: it trusts the PostgreSQL server it is given and the callers (the
// TAM's handlers authorize and verify before they store); it checks only
// the store's own invariants, in the database where it can.
//
// Every method is bounded: its arguments by store's Validate, its time by
// the caller's context and by the server-side statement_timeout and
// lock_timeout that Open sets on each connection unless the DSN sets them.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/teeup/teeup/tam/store"
)

// Store is the PostgreSQL store. It is safe for concurrent use, and so are
// several Stores (processes) on one database.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

type config struct {
	maxConns int32
}

// Option changes how Open connects.
type Option func(*config)

// WithMaxConns is the pool's size (default: pgxpool's, the larger of 4 and
// the number of CPUs, or pool_max_conns in the DSN).
func WithMaxConns(n int32) Option { return func(c *config) { c.maxConns = n } }

// Open connects to the database of dsn (a postgres:// URL or a key=value
// DSN) and brings its schema up to date. A database migrated by a newer
// binary is refused with a *store.SchemaError (errors.Is store.ErrSchemaNewer), and
// nothing is changed.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: say only that.
		return nil, fmt.Errorf("postgres: the DSN does not parse: %w", errors.Unwrap(err))
	}
	if c.maxConns > 0 {
		pc.MaxConns = c.maxConns
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = connectTimeout
	}
	rt := pc.ConnConfig.RuntimeParams
	for k, v := range map[string]time.Duration{"statement_timeout": statementTimeout, "lock_timeout": lockTimeout} {
		if _, set := rt[k]; !set {
			rt[k] = fmt.Sprint(v.Milliseconds())
		}
	}
	rt["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool, waiting for the connections in use to be given
// back; the store is unusable after.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// write runs fn in one transaction and commits it; an error from fn rolls
// everything back. A run that fails with a serialization failure or a
// deadlock is run again, up to maxAttempts times: fn must be safe to run
// again (it reads what it decides on inside the transaction).
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for range maxAttempts {
		if err = s.writeOnce(ctx, fn); !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("postgres: %d attempts: %w", maxAttempts, err)
}

func (s *Store) writeOnce(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		// fn's error is the one to report; a failed rollback ends the
		// connection's transaction all the same.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// scanner is a row: pgx.Row, or pgx.Rows at a row.
type scanner interface{ Scan(...any) error }

// querier runs queries: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: query: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: query: %w", err)
	}
	return out, nil
}

// one scans the one row of a query; ErrNotFound (wrapped with what) when
// there is none.
func one[T any](ctx context.Context, q querier, scan func(scanner) (T, error), what, query string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return v, nil
}

// exec runs one statement (atomic on its own) and says how many rows it
// changed; a deadlock is met by running it again, bounded.
func (s *Store) exec(ctx context.Context, what, query string, args ...any) (int64, error) {
	var err error
	for range maxAttempts {
		tag, e := s.pool.Exec(ctx, query, args...)
		if e == nil {
			return tag.RowsAffected(), nil
		}
		if err = e; !retryable(e) {
			break
		}
	}
	return 0, constraint(err, what)
}
