package sqlite

import (
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// rawDB opens the file with the driver alone, as another program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, map[string][]string{"_foreign_keys": {"1"}, "_busy_timeout": {"5000"}}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func versions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.Query(`SELECT version FROM schema_migrations ORDER BY version`)
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

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestMigrationsEmbedded(t *testing.T) {
	t.Parallel()
	if len(migrations) < 2 {
		t.Fatalf("%d migrations embedded", len(migrations))
	}
	for i, m := range migrations {
		if m.Version != i+1 || m.SQL == "" {
			t.Fatalf("migration %d: %+v", i, m)
		}
	}
}

func TestLoadMigrationsRefusesBadSets(t *testing.T) {
	t.Parallel()
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
		if _, err := store.LoadMigrations("sqlite", tc.fsys); err == nil {
			t.Errorf("%s: loaded", tc.name)
		}
	}
	ms, err := store.LoadMigrations("sqlite", fstest.MapFS{"migrations/0002_b.sql": file("B"), "migrations/0001_a.sql": file("A")})
	if err != nil || len(ms) != 2 || ms[0].SQL != "A" || ms[1].SQL != "B" {
		t.Fatalf("ordered set: %+v, %v", ms, err)
	}
}

func TestOpenAppliesEveryMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if got := versions(t, db); len(got) != len(migrations) || got[len(got)-1] != len(migrations) {
		t.Fatalf("versions %v, want 1..%d", got, len(migrations))
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v", mode, err)
	}
	// Opening again applies nothing and keeps the data.
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := versions(t, db); len(got) != len(migrations) {
		t.Fatalf("versions after reopening %v", got)
	}
}

// A file made by the first release (version 1) is brought up to date with
// its data: a device registered then reads back with no agreement key.
func TestOpenUpgradesAnOldFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	db := rawDB(t, path)
	if err := migrate(t.Context(), db, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO devices (id, name, agent_key, endorsement, reference, registered, last_seen, att_time, att_status, att_ear, att_reason, tcs, last_error)
		VALUES ('01', 'old', x'0102', NULL, NULL, 5, ?, ?, '', NULL, '', NULL, '')`, zeroTime, zeroTime); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Device(t.Context(), "01")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Device{ID: "01", Name: "old", AgentKey: []byte{1, 2}, Registered: colTime(5)}
	if got.ID != want.ID || got.Name != want.Name || string(got.AgentKey) != string(want.AgentKey) ||
		!got.Registered.Equal(want.Registered) || got.AgreementKey != nil || !got.LastSeen.IsZero() {
		t.Fatalf("device after upgrade: %+v", got)
	}
	if v := versions(t, db); len(v) != len(migrations) {
		t.Fatalf("versions after upgrade: %v", v)
	}
}

// A file written by a newer binary is refused, typed, and left alone.
func TestOpenRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	future := len(migrations) + 1
	if _, err := db.Exec(`INSERT INTO schema_migrations (version) VALUES (?)`, future); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), path)
	var se *store.SchemaError
	if !errors.Is(err, store.ErrSchemaNewer) || !errors.As(err, &se) || se.Database != future || se.Binary != len(migrations) {
		t.Fatalf("open of a newer file: %v (%+v)", err, se)
	}
	if v := versions(t, db); len(v) != future {
		t.Fatalf("the refused file changed: versions %v", v)
	}
}

// A migration that fails half-way leaves nothing of itself: the schema is
// at the version before it, and the next (fixed) binary applies it whole.
func TestMigrationIsAtomic(t *testing.T) {
	t.Parallel()
	db := rawDB(t, filepath.Join(t.TempDir(), "tam.db"))
	first := store.Migration{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (x INTEGER) STRICT;`}
	broken := store.Migration{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER) STRICT; INSERT INTO a VALUES (1); INSERT INTO missing VALUES (1);`}
	if err := migrate(t.Context(), db, []store.Migration{first, broken}); err == nil {
		t.Fatal("a broken migration applied")
	}
	if v := versions(t, db); len(v) != 1 || v[0] != 1 {
		t.Fatalf("versions after a failed migration: %v", v)
	}
	var rowsInA int
	if err := db.QueryRow(`SELECT count(*) FROM a`).Scan(&rowsInA); err != nil {
		t.Fatal(err)
	}
	if tableExists(t, db, "b") || rowsInA != 0 {
		t.Fatalf("the failed migration left table b (%v) or rows in a (%d)", tableExists(t, db, "b"), rowsInA)
	}
	fixed := broken
	fixed.SQL = `CREATE TABLE b (x INTEGER) STRICT; INSERT INTO a VALUES (1);`
	if err := migrate(t.Context(), db, []store.Migration{first, fixed}); err != nil {
		t.Fatal(err)
	}
	if v := versions(t, db); len(v) != 2 || !tableExists(t, db, "b") {
		t.Fatalf("after the fixed migration: versions %v", v)
	}
}

// The file and its WAL are the TAM user's alone: they hold token hashes
// and every device's state.
func TestFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendAudit(t.Context(), store.AuditEntry{Action: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// A file from before the fleet status migration, holding devices with
// tc-lists, upgrades with its versions counted: the summary of the
// upgraded file is the summary of the same devices added to a new one.
func TestOpenUpgradeCountsStoredVersions(t *testing.T) {
	t.Parallel()
	before := slices.IndexFunc(migrations, func(m store.Migration) bool { return strings.HasSuffix(m.Name, "_fleet_status.sql") })
	if before < 0 {
		t.Fatal("no fleet_status migration")
	}
	tc := func(seq uint64, parts ...string) store.InstalledTC {
		c := suit.ComponentID{}
		for _, p := range parts {
			c = append(c, []byte(p))
		}
		return store.InstalledTC{Component: c, SequenceNumber: seq}
	}
	devices := []store.Device{
		{ID: "01", AgentKey: []byte{1}, LastSeen: colTime(9), TCs: []store.InstalledTC{tc(1, "ta", "x"), tc(2, "fw"), tc(1, "ta", "x")}},
		{ID: "02", AgentKey: []byte{2}, LastError: "boom", TCs: []store.InstalledTC{tc(1, "ta", "x"), tc(math.MaxUint64, "fw")}},
		{ID: "03", AgentKey: []byte{3}, LastSeen: colTime(9), Attestation: store.Attestation{Status: "affirming"}},
	}
	path := filepath.Join(t.TempDir(), "tam.db")
	db := rawDB(t, path)
	if err := migrate(t.Context(), db, migrations[:before]); err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		if _, err := db.Exec(`INSERT INTO devices (`+deviceCols+`) VALUES (?, '', ?, NULL, NULL, NULL, 0, ?, ?, ?, NULL, '', ?, ?)`,
			d.ID, d.AgentKey, timeCol(d.LastSeen), timeCol(d.Attestation.Time), d.Attestation.Status, tcsCol(d.TCs), d.LastError); err != nil {
			t.Fatal(err)
		}
	}
	upgraded, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer upgraded.Close()
	fresh, err := Open(t.Context(), filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, d := range devices {
		d.Registered = colTime(0)
		if err := fresh.AddDevice(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := upgraded.FleetSummary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.FleetSummary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Versions) != 3 || got.Versions[0].Devices != 1 || got.Versions[2].Devices != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("summary after upgrade:\n got %+v\nwant %+v", got, want)
	}
	// And the counts go on from there.
	if err := upgraded.RecordTCs(t.Context(), "02", nil, colTime(10)); err != nil {
		t.Fatal(err)
	}
	if got, err = upgraded.FleetSummary(t.Context()); err != nil || len(got.Versions) != 2 || got.Versions[1].Devices != 1 {
		t.Fatalf("summary after a tc-list changed: %+v, %v", got.Versions, err)
	}
}
