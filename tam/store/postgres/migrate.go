package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/teeup/teeup/tam/store"
)

// The schema's versions (store.Migration): migrations/NNNN_what.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the binary's steps, by version from 1 without gaps.
var migrations = store.MustLoadMigrations("postgres", migrationFiles)

// goSteps are what a migration does that SQL cannot (decoding the list
// columns), by the migration's name after its number (NNNN_what.sql): run
// after its SQL, in its transaction.
var goSteps = map[string]func(context.Context, pgx.Tx) error{
	"fleet_status.sql": fillVersionCounts,
}

// migrateLock is the key of the session advisory lock that migrators
// hold: replicas starting together apply each migration once, one after
// the other ("teeup" in ASCII).
const migrateLock = 0x7465657570

// migrate brings the schema up to the last of ms, holding the migration
// lock. A database whose version is past the last of ms is refused with a
// *store.SchemaError.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []store.Migration) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A lock left held (the unlock failed with the connection) is
		// released when the connection closes: close it rather than give
		// it back.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock)); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	// Look before creating: a role that may not create tables (the TAM's,
	// see the package documentation) opens an up-to-date database.
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	var have int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if have > len(ms) {
		return &store.SchemaError{Backend: "postgres", Database: have, Binary: len(ms)}
	}
	for _, m := range ms[have:] {
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, m store.Migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	// After Commit, Rollback does nothing and says so: nothing to check.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// No arguments: the simple protocol, which runs a file of statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if step := goSteps[m.What()]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	return nil
}
