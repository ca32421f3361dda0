// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by TEEUP_TEST_POSTGRES (a DSN whose role may CREATE
// DATABASE), dropped when the test ends.
//
// Without the variable the tests skip, saying how to run them; with
// TEEUP_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead, so that CI
// never passes by skipping them. docs/postgres-test.sh starts a throwaway
// server on loopback and prints the variable.
//
// Trust: it trusts the server the variable names with databases it may
// drop: point it only at a throwaway server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The environment variables the kit reads.
const (
	EnvDSN     = "TEEUP_TEST_POSTGRES"
	EnvRequire = "TEEUP_REQUIRE_POSTGRES"
)

// HowTo is how to run the PostgreSQL tests locally.
const HowTo = `PostgreSQL tests need a server: eval "$(bash docs/postgres-test.sh start)" (sets ` + EnvDSN +
	`), then go test ./tam/store/postgres/..., then bash docs/postgres-test.sh stop`

// ServerDSN is the server's DSN; the test skips without one (fails when
// TEEUP_REQUIRE_POSTGRES=1).
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1 but %s is not set. %s", EnvRequire, EnvDSN, HowTo)
		}
		t.Skip(HowTo)
	}
	return dsn
}

// Database makes a new, empty database with a random name and returns its
// DSN (the server's, with the database replaced); it is dropped, with any
// connection left to it, when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	server := ServerDSN(t)
	var b [8]byte
	rand.Read(b[:])
	name := "teeup_test_" + hex.EncodeToString(b[:])
	Exec(t, server, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		// The test's context is canceled by now: drop with a context of
		// our own, bounded.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	dsn, err := WithDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// WithDatabase is dsn (a URL or a key=value DSN) with its database
// replaced.
func WithDatabase(dsn, database string) (string, error) {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return "", err
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + database
		return u.String(), nil
	}
	return dsn + " dbname=" + database, nil
}

// WithUser is dsn, a URL, with its role and password replaced.
func WithUser(dsn, user, password string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("pgtest: %s is not a postgres:// URL", EnvDSN)
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}

// Exec runs statements on the database of dsn, failing the test on error.
func Exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, dsn, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func exec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
