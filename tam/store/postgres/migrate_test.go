package postgres

import (
	"errors"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
)

func versions(t *testing.T, dsn string) []int {
	t.Helper()
	conn := connect(t, dsn)
	rows, err := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func tableExists(t *testing.T, dsn, name string) bool {
	t.Helper()
	var ok bool
	if err := connect(t, dsn).QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestLoadMigrationsRefusesBadSets(t *testing.T) {
	t.Parallel()
	if len(migrations) < 1 || migrations[0].Version != 1 {
		t.Fatalf("embedded migrations: %+v", migrations)
	}
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"a gap", fstest.MapFS{"migrations/0001_a.sql": file("SELECT 1"), "migrations/0003_c.sql": file("SELECT 1")}},
		{"a duplicate", fstest.MapFS{"migrations/0001_a.sql": file("SELECT 1"), "migrations/0001_b.sql": file("SELECT 1")}},
		{"no number", fstest.MapFS{"migrations/init.sql": file("SELECT 1")}},
		{"version 0", fstest.MapFS{"migrations/0000_a.sql": file("SELECT 1")}},
	} {
		if _, err := store.LoadMigrations("postgres", tc.fsys); err == nil {
			t.Errorf("%s: loaded", tc.name)
		}
	}
}

// Replicas starting together on an empty database: every one opens, each
// migration is applied once (without the advisory lock they collide on
// CREATE TABLE).
func TestConcurrentMigrators(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	const replicas = 6
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() {
			s, err := Open(t.Context(), dsn, WithMaxConns(2))
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	if v := versions(t, dsn); len(v) != len(migrations) || v[len(v)-1] != len(migrations) {
		t.Fatalf("versions %v, want 1..%d", v, len(migrations))
	}
}

// A database migrated by a newer binary is refused, typed, and left alone.
func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	future := len(migrations) + 1
	if _, err := connect(t, dsn).Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, future); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), dsn)
	var se *store.SchemaError
	if !errors.Is(err, store.ErrSchemaNewer) || !errors.As(err, &se) || se.Database != future || se.Binary != len(migrations) {
		t.Fatalf("open of a newer database: %v (%+v)", err, se)
	}
	if v := versions(t, dsn); len(v) != future {
		t.Fatalf("the refused database changed: versions %v", v)
	}
}

// A migration that fails half-way leaves nothing of itself: the schema is
// at the version before it, and the next (fixed) binary applies it whole.
func TestMigrationIsAtomic(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	first := store.Migration{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (x INTEGER);`}
	broken := store.Migration{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); INSERT INTO missing VALUES (1);`}
	if err := migrate(t.Context(), pool, []store.Migration{first, broken}); err == nil {
		t.Fatal("a broken migration applied")
	}
	if v := versions(t, dsn); len(v) != 1 || v[0] != 1 {
		t.Fatalf("versions after a failed migration: %v", v)
	}
	var rowsInA int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM a`).Scan(&rowsInA); err != nil {
		t.Fatal(err)
	}
	if tableExists(t, dsn, "b") || rowsInA != 0 {
		t.Fatalf("the failed migration left table b (%v) or rows in a (%d)", tableExists(t, dsn, "b"), rowsInA)
	}
	fixed := broken
	fixed.SQL = `CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1);`
	if err := migrate(t.Context(), pool, []store.Migration{first, fixed}); err != nil {
		t.Fatal(err)
	}
	if v := versions(t, dsn); len(v) != 2 || !tableExists(t, dsn, "b") {
		t.Fatalf("after the fixed migration: versions %v", v)
	}
}
