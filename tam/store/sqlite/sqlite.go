// Package sqlite is the TAM's embedded store: one SQLite file
// (modernc.org/sqlite, no cgo) behind store.Store.
//
// The file is in WAL mode with synchronous=FULL, so a method that returned
// has its change on disk: a TAM killed right after loses nothing it
// acknowledged. Every write goes through one connection (writes are
// serialized in Go, so concurrent writers wait instead of failing with
// SQLITE_BUSY) and every transaction on it begins IMMEDIATE; reads go
// through a pool of read-only connections that WAL lets run beside the
// writer. Foreign keys are on, the schema is versioned (migrate.go) and the
// audit table refuses UPDATE and DELETE by triggers, whoever opens the file.
//
// The store trusts its callers (see tam/store) and the file it opens: it
// is the TAM's own data directory.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the driver: registers "sqlite"

	"github.com/teeup/teeup/tam/store"
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	w *sql.DB // the one writer connection
	r *sql.DB // read-only connections
}

var _ store.Store = (*Store)(nil)

type config struct {
	busyTimeout time.Duration
	readers     int
}

// Option changes how Open opens the file.
type Option func(*config)

// WithBusyTimeout is how long a connection waits for a lock another
// process holds before it fails (default 10s). Within one Store no write
// waits on a lock: writes are serialized before they reach SQLite.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithReaders is the number of read-only connections (default: the
// number of CPUs, at least 2).
func WithReaders(n int) Option { return func(c *config) { c.readers = n } }

// Open opens (creating it if missing) the store in the file at path and
// brings its schema up to date. A file written by a newer binary is refused
// with a *store.SchemaError (errors.Is store.ErrSchemaNewer), and nothing is changed.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{busyTimeout: 10 * time.Second, readers: max(2, runtime.NumCPU())}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: a file path is needed (the store is durable)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// The file holds token and session hashes and every device's state:
	// only the TAM's user reads it. SQLite gives its -wal and -shm files the
	// mode of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()
	timeout := strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)

	w, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	// Readers keep up to 32 MiB of pages each, so that the status page's
	// scan of every device is served from memory rather than by a read
	// syscall per page.
	r, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
		"_pragma":       {"cache_size(-32768)"},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(cfg.readers)
	r.SetMaxIdleConns(cfg.readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &Store{w: w, r: r}, nil
}

func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
	return u.String()
}

// Close closes the connections; the store is unusable after.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// write runs fn in one IMMEDIATE transaction on the writer connection and
// commits it; an error from fn rolls everything back. When the caller's
// ctx ended, the error says so (errors.Is ctx.Err()): the transaction was
// rolled back, even where database/sql only reports ErrTxDone.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return gaveUp(ctx, fmt.Errorf("sqlite: begin: %w", err))
	}
	if err := fn(tx); err != nil {
		// fn's error is the one to report; a failed rollback leaves
		// nothing committed all the same.
		_ = tx.Rollback()
		return gaveUp(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return gaveUp(ctx, fmt.Errorf("sqlite: commit: %w", err))
	}
	return nil
}

// gaveUp adds the end of ctx to err when that is what stopped the write.
func gaveUp(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (the caller gave up: %w)", err, cerr)
	}
	return err
}
