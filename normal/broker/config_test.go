package broker

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/teeup/teeup/ipc"
)

func seededRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// TestNewRefusesBadConfig: a config that describes no usable broker is
// ErrConfig, before any request.
func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	sw := &ipc.Client{}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no TAM", Config{SW: sw}},
		{"ftp TAM", Config{TAM: "ftp://tam.example", SW: sw}},
		{"TAM without a host", Config{TAM: "https:///tam", SW: sw}},
		{"TAM with a query", Config{TAM: "https://tam.example/?x=1", SW: sw}},
		{"no secure world", Config{TAM: "https://tam.example"}},
		{"uppercase device ID", Config{TAM: "https://tam.example", SW: sw, DeviceID: "ABCD"}},
		{"odd device ID", Config{TAM: "https://tam.example", SW: sw, DeviceID: "abc"}},
		{"device ID with a query", Config{TAM: "https://tam.example", SW: sw, DeviceID: "ab&wait=1h"}},
		{"negative interval", Config{TAM: "https://tam.example", SW: sw, PollInterval: -1}},
		{"long wait", Config{TAM: "https://tam.example", SW: sw, PollWait: MaxPollWait + 1}},
		{"many attempts", Config{TAM: "https://tam.example", SW: sw, MaxAttempts: MaxAttemptsLimit + 1}},
		{"backoff upside down", Config{TAM: "https://tam.example", SW: sw, BackoffInitial: 2e9, BackoffMax: 1e9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
	b, err := New(Config{TAM: "https://tam.example/teep/", SW: sw, DeviceID: "ab01"})
	if err != nil {
		t.Fatal(err)
	}
	if b.endpoint != "https://tam.example/teep/tam" || b.pollURL != "https://tam.example/teep/tam/poll?device=ab01&wait=30s" {
		t.Fatalf("endpoint %q, poll %q", b.endpoint, b.pollURL)
	}
	if _, err := TLSConfig([]byte("not a certificate")); !errors.Is(err, ErrConfig) {
		t.Fatalf("TLSConfig = %v", err)
	}
}
