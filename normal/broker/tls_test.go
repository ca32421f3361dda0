package broker_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/broker"
)

// TestSessionTLS: a TAM with a self-signed certificate is trusted when
// its certificate is given (TLSConfig), and refused at once, without a
// retry, when it is not.
func TestSessionTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	sw := connect(t, ipctest.NewHandler())
	tlsCfg, err := broker.TLSConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cfg     broker.Config
		wantErr error
	}{
		{"trusted", broker.Config{TLS: tlsCfg}, nil},
		{"not trusted", broker.Config{}, broker.ErrCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.TAM, tc.cfg.SW = srv.URL, sw
			tc.cfg.Sleep = (&sleeps{}).sleep
			b, err := broker.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			out, err := b.Session(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Session = %v, want %v", err, tc.wantErr)
			}
			if out.Requests != 1 {
				t.Fatalf("%d requests, want 1", out.Requests)
			}
		})
	}
}
