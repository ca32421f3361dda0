package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// tamDBEnv names the database when --db is not given, so that a DSN with
// a password need not be on the command line (where ps shows it).
const tamDBEnv = "TEEUP_TAM_DB"

// openTAMStore opens the store --db names: a postgres:// (or
// postgresql://) URL is a PostgreSQL database, which several TAM replicas
// may share; anything else is the path of an SQLite file; empty is the
// embedded default, DATA/tam.db.
func openTAMStore(ctx context.Context, db, data string) (store.Store, error) {
	if u, err := url.Parse(db); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		s, err := postgres.Open(ctx, db)
		if err != nil {
			// Name the server, never the password the URL may hold.
			return nil, fmt.Errorf("--db postgres://%s%s: %w", u.Host, u.Path, err)
		}
		return s, nil
	}
	if db == "" {
		db = filepath.Join(data, "tam.db")
	}
	return sqlite.Open(ctx, db)
}
