package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/client"
)

// TestClient: the client sends the token, a publish the TAM's own body
// reader reads back whole, and error answers come back as typed errors.
func TestClient(t *testing.T) {
	t.Parallel()
	var got catalog.Publication
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/publish", func(w http.ResponseWriter, r *http.Request) {
		var err error
		if got, err = catalog.ReadPublication(r); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(catalog.EnvelopeJSON{Digest: "ab", Kind: "ta"})
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(catalog.StatusJSON{Summary: &catalog.SummaryJSON{Devices: 1}, Devices: []catalog.DeviceStatus{{ID: "d1"}}})
	})
	mux.HandleFunc("POST /api/v1/authors", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(apijson.ErrorBody{Error: "exists", Code: "exists"})
	})
	mux.HandleFunc("GET /api/v1/devices", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not JSON"))
	})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL, "s3cret", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Publish(ctx, []byte("envelope"), [][]byte{[]byte("one"), bytes.Repeat([]byte{0}, 1<<20)})
	if err != nil || e.Digest != "ab" || string(got.Envelope) != "envelope" || len(got.Payloads) != 2 || len(got.Payloads[1]) != 1<<20 {
		t.Fatalf("publish: %+v, %v; the TAM read %d payloads", e, err, len(got.Payloads))
	}
	if s, err := c.Status(ctx, 0); err != nil || len(s.Devices) != 1 || s.Devices[0].ID != "d1" || s.Summary.Devices != 1 {
		t.Fatalf("status %+v, %v", s, err)
	}
	var apiErr *client.APIError
	if _, err := c.AddAuthor(ctx, catalog.AuthorRequest{Name: "a"}); !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || apiErr.Code != "exists" {
		t.Fatalf("a conflict: %v", err)
	}
	if _, err := c.Devices(ctx, 0); !errors.Is(err, client.ErrResponse) {
		t.Fatalf("a malformed answer: %v", err)
	}
	anon, _ := client.New(srv.URL, "wrong", srv.Client())
	if _, err := anon.Status(ctx, 0); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("a bad token: %v", err)
	}
	if _, err := client.New("ftp://tam", "", nil); err == nil {
		t.Fatal("an ftp URL is accepted")
	}
}
