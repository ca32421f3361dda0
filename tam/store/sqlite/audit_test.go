package sqlite

import (
	"errors"
	"path/filepath"
	"testing"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/teeup/teeup/tam/store"
)

// Someone with the file and the sqlite driver (an intruder, or a careless
// script) tries to rewrite or erase the audit trail with raw SQL: the
// file's triggers refuse it, and the trail reads as it was.
func TestAuditRefusesRawUpdateAndDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tam.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.AuditEntry{
		{Time: colTime(1), Principal: "admin", Action: "publish", Target: "TA/acme/hello", Result: "ok"},
		{Time: colTime(2), Principal: "eve", Action: "token.create", Result: "refused: not an operator"},
	} {
		if _, err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.ListAudit(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	db := rawDB(t, path)
	for _, attack := range []string{
		`UPDATE audit SET result = 'ok' WHERE principal = 'eve'`,
		`UPDATE audit SET seq = seq + 100`,
		`DELETE FROM audit WHERE principal = 'eve'`,
		`DELETE FROM audit`,
		`REPLACE INTO audit (seq, time, principal, action, target, result, detail) VALUES (2, 2, 'eve', 'token.create', '', 'ok', '')`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) VALUES (2, 2, 'eve', 'token.create', '', 'ok', '')
			ON CONFLICT (seq) DO UPDATE SET result = 'ok'`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) VALUES (0, 0, 'eve', 'login', '', 'ok', '')`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) VALUES (-5, 0, 'eve', 'login', '', 'ok', '')`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) VALUES (-1, 0, 'eve', 'login', '', 'ok', '')`,
	} {
		_, err := db.Exec(attack)
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_TRIGGER {
			t.Errorf("%s: %v, want the trigger's refusal", attack, err)
		}
	}
	// Appending is what the trail is for: it still works.
	if _, err := db.Exec(`INSERT INTO audit (time, principal, action, target, result, detail) VALUES (3, 'admin', 'x', '', 'ok', '')`); err != nil {
		t.Fatalf("append with raw SQL: %v", err)
	}
	db.Close()

	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.ListAudit(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 3 {
		t.Fatalf("%d entries after the attacks, want 3", len(after))
	}
	for i, e := range before {
		if after[i] != e {
			t.Fatalf("entry %d changed: %+v, was %+v", i, after[i], e)
		}
	}
}
