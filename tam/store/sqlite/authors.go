package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// AddAuthor registers a; ErrExists when its name is taken.
func (s *Store) AddAuthor(ctx context.Context, a store.Author) error {
	if err := a.Validate(); err != nil {
		return err
	}
	prefixes := componentsCol(a.Prefixes)
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO authors (name, kind, key, prefixes, created) VALUES (?, ?, ?, ?, ?)`,
			a.Name, string(a.Kind), a.Key, prefixes, timeCol(a.Created))
		if err != nil {
			return constraint(err, "add author "+a.Name)
		}
		return nil
	})
}

const authorCols = `name, kind, key, prefixes, created`

func scanAuthor(sc interface{ Scan(...any) error }) (store.Author, error) {
	var (
		a       store.Author
		kind    string
		created int64
	)
	var prefixes []suit.ComponentID
	if err := sc.Scan(&a.Name, &kind, colBlob{&a.Key}, colComponents(&prefixes), &created); err != nil {
		return store.Author{}, err
	}
	a.Kind, a.Prefixes, a.Created = store.AuthorKind(kind), prefixes, colTime(created)
	return a, nil
}

// Author is the author registered under name.
func (s *Store) Author(ctx context.Context, name string) (store.Author, error) {
	a, err := scanAuthor(s.r.QueryRowContext(ctx, `SELECT `+authorCols+` FROM authors WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Author{}, fmt.Errorf("author %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Author{}, fmt.Errorf("sqlite: author %q: %w", name, err)
	}
	return a, nil
}

// ListAuthors is every author, by name.
func (s *Store) ListAuthors(ctx context.Context) ([]store.Author, error) {
	return list(ctx, s.r, scanAuthor, `SELECT `+authorCols+` FROM authors ORDER BY name`)
}

// list runs a query and scans every row with scan.
func list[T any](ctx context.Context, db *sql.DB, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query: %w", err)
	}
	return out, nil
}
