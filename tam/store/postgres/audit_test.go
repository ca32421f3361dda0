package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
)

// connect is a raw connection to dsn, as another program would make.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// appRole makes a login role that owns nothing in the database of dsn and
// is granted what the package documentation says the TAM's role gets;
// it returns the DSN of the database as that role. The role (a
// cluster-wide name) is dropped at the end.
func appRole(t *testing.T, dsn string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	role := "teeup_tam_" + hex.EncodeToString(b[:])
	pgtest.Exec(t, dsn, `CREATE ROLE `+role+` LOGIN PASSWORD 'tam'`)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// DROP OWNED takes the role's grants in this database; the
		// database itself is dropped by pgtest after this (cleanups run
		// last-registered first), so drop the role with its grants here.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop role: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP OWNED BY `+role+`; DROP ROLE `+role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	pgtest.Exec(t, dsn, `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO `+role+`;
		REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM `+role+`;
		GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO `+role)
	as, err := pgtest.WithUser(dsn, role, "tam")
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// sqlState is the SQLSTATE of err, "" when it is not the server's.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Someone with a connection to the database (an intruder with the TAM's
// credentials, a careless script, the table's owner) tries to rewrite or
// erase the audit trail with raw SQL. The owner meets the triggers; the
// TAM's role meets missing privileges first, and cannot remove the
// triggers either. The trail reads as it was, and appending still works,
// through the store opened as the TAM's role.
func TestAuditRefusesRawSQL(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	owner, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.AuditEntry{
		{Time: colTime(1), Principal: "admin", Action: "publish", Target: "TA/acme/hello", Result: "ok"},
		{Time: colTime(2), Principal: "eve", Action: "token.create", Result: "refused: not an operator"},
	} {
		if _, err := owner.AppendAudit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	before, err := owner.ListAudit(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	owner.Close()

	tamDSN := appRole(t, dsn)
	rewrites := []string{
		`UPDATE audit SET result = 'ok' WHERE principal = 'eve'`,
		`UPDATE audit SET principal = 'admin', time = time + 1`,
		`DELETE FROM audit WHERE principal = 'eve'`,
		`DELETE FROM audit`,
		`TRUNCATE audit`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) OVERRIDING SYSTEM VALUE
			VALUES (2, 2, 'eve', 'token.create', '', 'ok', '') ON CONFLICT (seq) DO UPDATE SET result = 'ok'`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) OVERRIDING SYSTEM VALUE VALUES (0, 0, 'eve', 'login', '', 'ok', '')`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) OVERRIDING SYSTEM VALUE VALUES (-5, 0, 'eve', 'login', '', 'ok', '')`,
		`INSERT INTO audit (seq, time, principal, action, target, result, detail) OVERRIDING SYSTEM VALUE VALUES (1000, 0, 'eve', 'login', '', 'ok', '')`,
	}
	removals := []string{
		`ALTER TABLE audit DISABLE TRIGGER audit_no_update`,
		`ALTER TABLE audit DISABLE TRIGGER ALL`,
		`DROP TRIGGER audit_no_delete ON audit`,
		`DROP FUNCTION audit_append_only() CASCADE`,
		`DROP TABLE audit`,
		`ALTER TABLE audit RENAME TO audit_old`,
		`SET session_replication_role = replica`,
	}
	for _, who := range []struct {
		name, dsn string
		attacks   []string
	}{
		{"owner", dsn, rewrites},
		{"tam role", tamDSN, append(rewrites, removals...)},
	} {
		conn := connect(t, who.dsn)
		for _, attack := range who.attacks {
			_, err := conn.Exec(t.Context(), attack)
			// 42501: insufficient_privilege, from the trigger (the owner)
			// or from the privilege system (the TAM's role).
			if sqlState(err) != "42501" {
				t.Errorf("%s: %s: %v, want insufficient_privilege", who.name, attack, err)
			}
		}
	}

	// Appending is what the trail is for: the TAM's role does it, by raw
	// SQL and through the store.
	conn := connect(t, tamDSN)
	if _, err := conn.Exec(t.Context(), `INSERT INTO audit (time, principal, action, target, result, detail) VALUES (3, 'admin', 'x', '', 'ok', '')`); err != nil {
		t.Fatalf("append with raw SQL: %v", err)
	}
	tam, err := Open(t.Context(), tamDSN)
	if err != nil {
		t.Fatalf("open as the TAM's role: %v", err)
	}
	defer tam.Close()
	if _, err := tam.AppendAudit(t.Context(), store.AuditEntry{Time: colTime(4), Action: "y"}); err != nil {
		t.Fatalf("append as the TAM's role: %v", err)
	}
	after, err := tam.ListAudit(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 4 {
		t.Fatalf("%d entries after the attacks, want 4: %+v", len(after), after)
	}
	for i, e := range before {
		if after[i] != e {
			t.Fatalf("entry %d changed: %+v, was %+v", i, after[i], e)
		}
	}
}
