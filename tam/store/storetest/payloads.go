package storetest

import (
	"bytes"
	"testing"

	"github.com/teeup/teeup/tam/store"
)

func testPayloads(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		for _, data := range [][]byte{{}, {0}, bytes.Repeat([]byte("payload"), 50_000)} {
			wantErr(t, "put", s.PutPayload(ctx, sum(data), data), nil)
			wantErr(t, "put again", s.PutPayload(ctx, sum(data), data), nil)
			got, err := s.Payload(ctx, sum(data))
			wantErr(t, "payload", err, nil)
			if !bytes.Equal(got, data) {
				t.Fatalf("payload of %d bytes came back as %d bytes", len(data), len(got))
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Payload(ctx, sum([]byte("absent")))
		wantErr(t, "payload", err, store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		data := []byte("the real payload")
		over := make([]byte, store.MaxPayload+1)
		for _, tc := range []struct {
			name         string
			digest, data []byte
		}{
			{"digest of other data", sum([]byte("another payload")), data},
			{"digest with a flipped bit", func() []byte { d := sum(data); d[31] ^= 1; return d }(), data},
			{"digest short", sum(data)[:16], data},
			{"no digest", nil, data},
			{"over MaxPayload", sum(over), over},
		} {
			wantErr(t, tc.name, s.PutPayload(ctx, tc.digest, tc.data), store.ErrInvalid)
			if len(tc.digest) > 0 {
				_, err := s.Payload(ctx, tc.digest)
				wantErr(t, tc.name+": stored anyway", err, store.ErrNotFound)
			}
		}
		_, err := s.Payload(ctx, sum(data))
		wantErr(t, "payload under its own digest", err, store.ErrNotFound)
	})
}
