package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// PutEnvelope stores e; ErrExists when its digest is stored already.
func (s *Store) PutEnvelope(ctx context.Context, e store.Envelope) error {
	if err := e.Validate(); err != nil {
		return err
	}
	comps, err := componentsCol(e.Components)
	if err != nil {
		return err
	}
	payloads, err := listCol(e.Payloads)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("put envelope %x", e.Digest)
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO envelopes (`+envelopeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			e.Digest, string(e.Kind), comps, seqCol(e.SequenceNumber), e.Author, e.Device, e.Raw, payloads, e.Reference, timeCol(e.Published), e.Held); err != nil {
			return constraint(err, what)
		}
		for _, c := range e.Components {
			if _, err := tx.Exec(ctx, `INSERT INTO envelope_components (digest, component) VALUES ($1, $2) ON CONFLICT DO NOTHING`, e.Digest, componentKey(c)); err != nil {
				return constraint(err, what)
			}
		}
		return nil
	})
}

const envelopeCols = `digest, kind, components, seq, author, device, raw, payloads, reference, published, held`

func scanEnvelope(sc scanner) (store.Envelope, error) {
	var (
		e               store.Envelope
		kind            string
		comps, payloads []byte
		seq, published  int64
	)
	if err := sc.Scan(&e.Digest, &kind, &comps, &seq, &e.Author, &e.Device, &e.Raw, &payloads, &e.Reference, &published, &e.Held); err != nil {
		return store.Envelope{}, err
	}
	cs, err := colComponents(comps)
	if err != nil {
		return store.Envelope{}, err
	}
	ps, err := colList[[]byte](payloads)
	if err != nil {
		return store.Envelope{}, err
	}
	e.Kind, e.Components, e.SequenceNumber, e.Payloads, e.Published = store.EnvelopeKind(kind), cs, colSeq(seq), ps, colTime(published)
	return e, nil
}

// Envelope is the envelope stored under digest.
func (s *Store) Envelope(ctx context.Context, digest []byte) (store.Envelope, error) {
	return one(ctx, s.pool, scanEnvelope, fmt.Sprintf("envelope %x", digest), `SELECT `+envelopeCols+` FROM envelopes WHERE digest = $1`, digest)
}

// LatestFor is, for each component, the envelope with the highest sequence
// number that device may receive; on a tie the one for this device, then
// the one published last, then the lowest digest. Each envelope appears
// once, in the order of ListEnvelopes. Held envelopes are left out.
func (s *Store) LatestFor(ctx context.Context, device string) ([]store.Envelope, error) {
	return list(ctx, s.pool, scanEnvelope, `
SELECT `+envelopeCols+` FROM envelopes WHERE digest IN (
	SELECT digest FROM (
		SELECT c.digest, row_number() OVER (
			PARTITION BY c.component
			ORDER BY e.seq DESC, e.device <> '' DESC, e.published DESC, e.digest ASC
		) AS rank
		FROM envelope_components c JOIN envelopes e ON e.digest = c.digest
		WHERE (e.device = '' OR e.device = $1) AND NOT e.held
	) AS ranked WHERE rank = 1
) ORDER BY published, digest`, device)
}

// ListEnvelopes is every envelope, in the order they were published (then
// by digest).
func (s *Store) ListEnvelopes(ctx context.Context) ([]store.Envelope, error) {
	return list(ctx, s.pool, scanEnvelope, `SELECT `+envelopeCols+` FROM envelopes ORDER BY published, digest`)
}
