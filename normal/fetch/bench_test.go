package fetch_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/teeup/teeup/normal/fetch"
)

var fetchTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkFetch measures a 64 MiB download from a local server into a sink
// that discards, per chunk size, next to a bare GET copied to io.Discard:
// the difference is the package's own cost.
func BenchmarkFetch(b *testing.B) {
	const size = 64 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 31)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "fw.bin", fetchTime, bytes.NewReader(payload))
	}))
	defer srv.Close()
	discard := func(uint64, []byte) error { return nil }

	b.Run("baseline=io.Copy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	for _, chunk := range []int{64 << 10, fetch.DefaultChunkSize, fetch.MaxChunkSize} {
		b.Run(fmt.Sprintf("chunk=%dKiB", chunk>>10), func(b *testing.B) {
			d, err := fetch.New(fetch.Config{Client: srv.Client(), ChunkSize: chunk})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			for b.Loop() {
				if err := d.Fetch(context.Background(), srv.URL, size, 0, discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
