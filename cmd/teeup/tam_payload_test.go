package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teeup/teeup/normal/fetch"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// cutWriter aborts the connection once limit bytes of the body are out:
// a download cut in the middle.
type cutWriter struct {
	http.ResponseWriter
	left int
}

func (w *cutWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		_, _ = w.ResponseWriter.Write(p[:w.left]) // what got out before the cut
		w.left = 0
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	w.left -= len(p)
	return w.ResponseWriter.Write(p)
}

// TestTAMPayloadResumes: normal/fetch downloads a payload from the TAM's
// payload endpoint; the first connection is cut in the middle, and the
// second request resumes from the byte it stopped at (a 206 by Range),
// so that the bytes delivered are the payload, each once.
func TestTAMPayloadResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tam.New(tam.Config{Store: st, Key: key, BaseURL: "http://tam.test"})
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("a TA image, resumed after a cut. "), 32<<10) // 1 MiB
	sum := sha256.Sum256(payload)
	if err := st.PutPayload(ctx, sum[:], payload); err != nil {
		t.Fatal(err)
	}
	const cutAt = 300 << 10
	var requests atomic.Int32
	var ranges []string
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		if requests.Add(1) == 1 {
			w = &cutWriter{ResponseWriter: w, left: cutAt}
		}
		h.ServeHTTP(w, r)
	}))
	defer hs.Close()

	d, err := fetch.New(fetch.Config{Client: hs.Client(), MaxAttempts: 3,
		Backoff: fetch.Backoff{Sleep: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	err = d.Fetch(ctx, hs.URL+catalog.PayloadPath(sum[:]), uint64(len(payload)), 0, func(off uint64, chunk []byte) error {
		if off != uint64(got.Len()) {
			t.Fatalf("a chunk at %d, after %d bytes", off, got.Len())
		}
		got.Write(chunk)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("downloaded %d bytes, not the payload", got.Len())
	}
	if requests.Load() != 2 || ranges[0] != "" || !strings.HasPrefix(ranges[1], "bytes=") || ranges[1] == "bytes=0-" {
		t.Fatalf("%d requests with ranges %q: want the cut one, then one resumed by Range", requests.Load(), ranges)
	}
}
