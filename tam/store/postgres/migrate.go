package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
var goSteps = map[string]func(context.Context, pgx.Tx) error{
	"fleet_status.sql": fillVersionCounts,
}

// migrateLock is the key of the session advisory lock that migrators
// hold: replicas starting together apply each migration once, one after
// the other ("teeup" in ASCII).
const migrateLock = 0x7465657570

// ErrSchemaNewer: the database's schema is newer than this binary knows.
var ErrSchemaNewer = errors.New("postgres: database schema newer than this binary")

// SchemaError is a database whose schema version this binary cannot use.
type SchemaError struct {
	Database int // the database's highest applied version
	Binary   int // the highest version this binary knows
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("postgres: database schema version %d, this binary knows up to %d (a newer teeup migrated it)", e.Database, e.Binary)
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
			return nil, fmt.Errorf("postgres: migration %s: name is not NNNN_what.sql", n)
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
			return nil, fmt.Errorf("postgres: migration %s: version %d where %d was expected", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to the last of ms, holding the migration
// lock. A database whose version is past the last of ms is refused with a
// *SchemaError.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
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
		return &SchemaError{Database: have, Binary: len(ms)}
	}
	for _, m := range ms[have:] {
		if err := apply(ctx, conn.Conn(), m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	// After Commit, Rollback does nothing and says so: nothing to check.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// No arguments: the simple protocol, which runs a file of statements.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if _, what, _ := strings.Cut(m.name, "_"); goSteps[what] != nil {
		if err := goSteps[what](ctx, tx); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return nil
}
