package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// PutEnvelope stores e; ErrExists when its digest is stored already.
func (s *Store) PutEnvelope(ctx context.Context, e store.Envelope) error {
	if err := e.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO envelopes (`+envelopeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Digest, string(e.Kind), componentsCol(e.Components), seqCol(e.SequenceNumber), e.Author, e.Device, e.Raw, bytesListCol(e.Payloads), blobCol(e.Reference), timeCol(e.Published), e.Held)
		if err != nil {
			return constraint(err, fmt.Sprintf("put envelope %x", e.Digest))
		}
		for _, c := range e.Components {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO envelope_components (digest, component) VALUES (?, ?)`, e.Digest, componentKey(c)); err != nil {
				return fmt.Errorf("sqlite: put envelope %x: %w", e.Digest, err)
			}
		}
		return nil
	})
}

const envelopeCols = `digest, kind, components, seq, author, device, raw, payloads, reference, published, held`

func scanEnvelope(sc interface{ Scan(...any) error }) (store.Envelope, error) {
	var (
		e              store.Envelope
		kind           string
		comps          []suit.ComponentID
		payloads       [][]byte
		seq, published int64
	)
	if err := sc.Scan(colBlob{&e.Digest}, &kind, colComponents(&comps), &seq, &e.Author, &e.Device, colBlob{&e.Raw}, colBytesList(&payloads), colBlob{&e.Reference}, &published, &e.Held); err != nil {
		return store.Envelope{}, err
	}
	e.Kind, e.Components, e.SequenceNumber, e.Payloads, e.Published = store.EnvelopeKind(kind), comps, colSeq(seq), payloads, colTime(published)
	return e, nil
}

// Envelope is the envelope stored under digest.
func (s *Store) Envelope(ctx context.Context, digest []byte) (store.Envelope, error) {
	e, err := scanEnvelope(s.r.QueryRowContext(ctx, `SELECT `+envelopeCols+` FROM envelopes WHERE digest = ?`, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Envelope{}, fmt.Errorf("envelope %x: %w", digest, store.ErrNotFound)
	}
	if err != nil {
		return store.Envelope{}, fmt.Errorf("sqlite: envelope %x: %w", digest, err)
	}
	return e, nil
}

// LatestFor is, for each component, the envelope with the highest sequence
// number that device may receive; on a tie the one for this device, then
// the one published last, then the lowest digest. Each envelope appears
// once, in the order of ListEnvelopes. Held envelopes are left out.
func (s *Store) LatestFor(ctx context.Context, device string) ([]store.Envelope, error) {
	return list(ctx, s.r, scanEnvelope, `
SELECT `+envelopeCols+` FROM envelopes WHERE digest IN (
	SELECT digest FROM (
		SELECT c.digest, row_number() OVER (
			PARTITION BY c.component
			ORDER BY e.seq DESC, e.device <> '' DESC, e.published DESC, e.digest ASC
		) AS rank
		FROM envelope_components c JOIN envelopes e ON e.digest = c.digest
		WHERE (e.device = '' OR e.device = ?) AND NOT e.held
	) WHERE rank = 1
) ORDER BY published, digest`, device)
}

// ListEnvelopes is every envelope, in the order they were published (then
// by digest).
func (s *Store) ListEnvelopes(ctx context.Context) ([]store.Envelope, error) {
	return list(ctx, s.r, scanEnvelope, `SELECT `+envelopeCols+` FROM envelopes ORDER BY published, digest`)
}
