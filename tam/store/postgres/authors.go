package postgres

import (
	"context"

	"github.com/teeup/teeup/tam/store"
)

// AddAuthor registers a; ErrExists when its name is taken.
func (s *Store) AddAuthor(ctx context.Context, a store.Author) error {
	if err := a.Validate(); err != nil {
		return err
	}
	prefixes, err := componentsCol(a.Prefixes)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, "add author "+a.Name, `INSERT INTO authors (`+authorCols+`) VALUES ($1, $2, $3, $4, $5)`,
		a.Name, string(a.Kind), a.Key, prefixes, timeCol(a.Created))
	return err
}

const authorCols = `name, kind, key, prefixes, created`

func scanAuthor(sc scanner) (store.Author, error) {
	var (
		a        store.Author
		kind     string
		prefixes []byte
		created  int64
	)
	if err := sc.Scan(&a.Name, &kind, &a.Key, &prefixes, &created); err != nil {
		return store.Author{}, err
	}
	ps, err := colComponents(prefixes)
	if err != nil {
		return store.Author{}, err
	}
	a.Kind, a.Prefixes, a.Created = store.AuthorKind(kind), ps, colTime(created)
	return a, nil
}

// Author is the author registered under name.
func (s *Store) Author(ctx context.Context, name string) (store.Author, error) {
	return one(ctx, s.pool, scanAuthor, "author "+name, `SELECT `+authorCols+` FROM authors WHERE name = $1`, name)
}

// ListAuthors is every author, by name.
func (s *Store) ListAuthors(ctx context.Context) ([]store.Author, error) {
	return list(ctx, s.pool, scanAuthor, `SELECT `+authorCols+` FROM authors ORDER BY name`)
}
