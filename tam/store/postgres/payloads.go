package postgres

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// PutPayload stores data under its SHA-256 digest; ErrInvalid when digest
// is not that. Storing it again is not an error.
func (s *Store) PutPayload(ctx context.Context, digest, data []byte) error {
	if err := store.ValidatePayload(digest, data); err != nil {
		return err
	}
	_, err := s.exec(ctx, fmt.Sprintf("put payload %x", digest), `INSERT INTO payloads (digest, data) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING`, digest, nonNil(data))
	return err
}

// Payload is the payload stored under digest.
func (s *Store) Payload(ctx context.Context, digest []byte) ([]byte, error) {
	return one(ctx, s.pool, func(sc scanner) (data []byte, err error) {
		err = sc.Scan(&data)
		return nonNil(data), err
	}, fmt.Sprintf("payload %x", digest), `SELECT data FROM payloads WHERE digest = $1`, digest)
}
