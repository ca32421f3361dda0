package ipctest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
)

// TestRecorder runs an update over a recorded pipe and checks that both
// directions were recorded, and that what the secure world keeps to
// itself did not cross.
func TestRecorder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	secret := []byte("device-attestation-private-key!!")
	h := ipctest.NewHandler()
	h.EAT = []byte("signed-evidence")
	normal, secure := ipctest.Pipe()
	rec := ipctest.NewRecorder(normal)
	done := make(chan error, 1)
	go func() { done <- ipc.Serve(ctx, secure, h) }()
	c, err := ipc.NewClient(rec)
	if err != nil {
		t.Fatal(err)
	}
	envelope := []byte("suit-envelope")
	chunk := bytes.Repeat([]byte("payload-"), 100)
	if _, err := c.StartUpdate(ctx, envelope); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteChunk(ctx, 42, 0, 0, chunk); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Evidence(ctx, []byte("nonce123")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	secure.Close()
	for _, tc := range []struct {
		name     string
		b        []byte
		sent     bool
		received bool
	}{
		{"envelope", envelope, true, false},
		{"chunk", chunk, true, false},
		{"nonce", []byte("nonce123"), true, false},
		{"evidence", h.EAT, false, true},
		{"payload URI", []byte(h.Start.Payloads[0].URI), false, true},
		{"secret", secret, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bytes.Contains(rec.Sent(), tc.b); got != tc.sent {
				t.Errorf("sent: %v, want %v", got, tc.sent)
			}
			if got := bytes.Contains(rec.Received(), tc.b); got != tc.received {
				t.Errorf("received: %v, want %v", got, tc.received)
			}
			if got := rec.Crossed(tc.b); got != (tc.sent || tc.received) {
				t.Errorf("Crossed: %v", got)
			}
		})
	}
	// The recording is the exact byte stream: it parses as frames.
	sent := bytes.NewReader(rec.Sent())
	var frames int
	for sent.Len() > 0 {
		if _, err := ipc.ReadFrame(sent); err != nil {
			t.Fatalf("recorded stream: %v", err)
		}
		frames++
	}
	if frames != 4 {
		t.Errorf("%d frames sent, want hello and 3 requests", frames)
	}
	// The handler saw the calls in order, with the bytes that were sent.
	calls := h.Calls()
	want := []ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpGetEvidence}
	if len(calls) != len(want) {
		t.Fatalf("handler saw %v, want %v", h.Ops(), want)
	}
	for i, c := range calls {
		if c.Op != want[i] {
			t.Errorf("call %d: %v, want %v", i, c.Op, want[i])
		}
	}
	if got := calls[1].Args.(ipc.WriteChunkArgs).Data; !bytes.Equal(got, chunk) {
		t.Errorf("the handler recorded chunk %q", got)
	}
}
