package store

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The backends' schemas are versioned the same way: the embedded files
// migrations/NNNN_what.sql, applied in order, each in its own transaction
// together with its row in schema_migrations, so that a migration is
// applied whole or not at all. A released migration is never edited: a
// change is a new file. How a migration is applied (locks, the
// transaction) is each backend's; what a migration is, and the refusal of
// a schema newer than the binary, are shared here.

// Migration is one numbered step of a backend's schema.
type Migration struct {
	Version int
	// Name is the file's name, NNNN_what.sql.
	Name string
	SQL  string
}

// What is the migration's name after its number (what.sql): a backend
// finds by it the Go step, if any, that goes with the migration's SQL.
func (m Migration) What() string {
	_, what, _ := strings.Cut(m.Name, "_")
	return what
}

// LoadMigrations reads fsys's migrations/NNNN_what.sql, by version. The
// versions run from 1 without a gap or a repeat; backend names the
// backend in the errors.
func LoadMigrations(backend string, fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s: migration %s: name is not NNNN_what.sql", backend, n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s: migration %s: version %d where %d was expected", backend, m.Name, m.Version, i+1)
		}
	}
	return ms, nil
}

// MustLoadMigrations is LoadMigrations of a binary's own embedded files,
// which its tests check: an error is a broken build.
func MustLoadMigrations(backend string, fsys fs.FS) []Migration {
	ms, err := LoadMigrations(backend, fsys)
	if err != nil {
		panic(err)
	}
	return ms
}

// ErrSchemaNewer: the database's schema is newer than this binary knows.
var ErrSchemaNewer = errors.New("store: database schema newer than this binary")

// SchemaError is a database whose schema version this binary cannot use.
type SchemaError struct {
	Backend  string
	Database int // the database's highest applied version
	Binary   int // the highest version this binary knows
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s: database schema version %d, this binary knows up to %d (a newer teeup migrated it)", e.Backend, e.Database, e.Binary)
}

// Is makes errors.Is(err, ErrSchemaNewer) hold.
func (e *SchemaError) Is(target error) bool { return target == ErrSchemaNewer }
