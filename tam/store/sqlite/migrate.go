package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// The schema's versions (store.Migration): migrations/NNNN_what.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the binary's steps, by version from 1 without gaps.
var migrations = store.MustLoadMigrations("sqlite", migrationFiles)

// goSteps are what a migration does that SQL cannot (decoding the list
// columns), by the migration's name after its number (NNNN_what.sql): run
// after its SQL, in its transaction.
var goSteps = map[string]func(context.Context, *sql.Tx) error{
	"fleet_status.sql": fillVersionCounts,
}

// migrate brings the schema of db up to the last of ms. A database whose
// version is past the last of ms is refused with a *store.SchemaError.
func migrate(ctx context.Context, db *sql.DB, ms []store.Migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	have, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if have > len(ms) {
		return &store.SchemaError{Backend: "sqlite", Database: have, Binary: len(ms)}
	}
	for _, m := range ms[have:] {
		if err := apply(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("migrate: read version: %w", err)
	}
	return int(v.Int64), nil
}

func apply(ctx context.Context, db *sql.DB, m store.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	// After Commit, Rollback does nothing and says so: nothing to check.
	defer func() { _ = tx.Rollback() }()
	// Re-read inside the transaction: another process may have applied it.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&done); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if step := goSteps[m.What()]; step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, m.Version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	return nil
}
