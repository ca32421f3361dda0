package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// PutPayload stores data under its SHA-256 digest; ErrInvalid when digest
// is not that. Storing it again is not an error.
func (s *Store) PutPayload(ctx context.Context, digest, data []byte) error {
	if err := store.ValidatePayload(digest, data); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO payloads (digest, data) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING`, digest, nonNil(data)); err != nil {
			return fmt.Errorf("sqlite: put payload %x: %w", digest, err)
		}
		return nil
	})
}

// nonNil makes an empty payload an empty BLOB rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Payload is the payload stored under digest.
func (s *Store) Payload(ctx context.Context, digest []byte) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM payloads WHERE digest = ?`, digest).Scan(colBlob{&data})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("payload %x: %w", digest, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: payload %x: %w", digest, err)
	}
	return data, nil
}
