package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The schema's versions: migrations/NNNN_what.sql, applied in order, each
// in its own transaction together with its row in schema_migrations, so a
// migration is applied whole or not at all. A released migration is never
// edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered step of the schema.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the binary's steps, by version from 1 without gaps.
var migrations = mustLoadMigrations(migrationFiles)

// goSteps are what a migration does that SQL cannot (decoding the list
// columns), by the migration's name after its number (NNNN_what.sql): run
// after its SQL, in its transaction.
var goSteps = map[string]func(context.Context, *sql.Tx) error{
	"fleet_status.sql": fillVersionCounts,
}

// ErrSchemaNewer: the file's schema is newer than this binary knows.
var ErrSchemaNewer = errors.New("sqlite: database schema newer than this binary")

// SchemaError is a file whose schema version this binary cannot use.
type SchemaError struct {
	Database int // the file's highest applied version
	Binary   int // the highest version this binary knows
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("sqlite: database schema version %d, this binary knows up to %d (a newer teeup wrote it)", e.Database, e.Binary)
}

// Is makes errors.Is(err, ErrSchemaNewer) hold.
func (e *SchemaError) Is(target error) bool { return target == ErrSchemaNewer }

func mustLoadMigrations(fsys fs.FS) []migration {
	ms, err := loadMigrations(fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name is not NNNN_what.sql", n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlite: migration %s: version %d where %d was expected", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema of db up to the last of ms. A database whose
// version is past the last of ms is refused with a *SchemaError.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	have, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if have > len(ms) {
		return &SchemaError{Database: have, Binary: len(ms)}
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

func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	// After Commit, Rollback does nothing and says so: nothing to check.
	defer func() { _ = tx.Rollback() }()
	// Re-read inside the transaction: another process may have applied it.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if _, what, _ := strings.Cut(m.name, "_"); goSteps[what] != nil {
		if err := goSteps[what](ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, m.version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return nil
}
