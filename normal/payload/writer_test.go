package payload_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/payload"
)

func connect(t *testing.T, h ipc.Handler) *ipc.Client {
	t.Helper()
	normal, secure := ipctest.Pipe()
	done := make(chan error, 1)
	go func() { done <- ipc.Serve(context.Background(), secure, h) }()
	c, err := ipc.NewClient(normal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-done })
	return c
}

// TestWrite: a payload from a local file crosses in chunks of the
// channel's size, each byte once, then is finished; one with no source,
// or a file shorter than declared, sends nothing; a cancel names the set.
func TestWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		file    int // bytes in the local file; -1: no local file
		size    int // declared
		wantErr error
		wantOps []ipc.Op
	}{
		{"local file, two chunks", 2*ipc.MaxChunk - 5, 2*ipc.MaxChunk - 5, nil, []ipc.Op{ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish}},
		{"local file longer than declared", 100, 60, nil, []ipc.Op{ipc.OpWriteChunk, ipc.OpFinish}},
		{"local file shorter than declared", 10, 60, nil, nil},
		{"no source", -1, 60, payload.ErrNoSource, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := ipctest.NewHandler()
			sw := connect(t, h)
			content := bytes.Repeat([]byte("payload!"), tc.file/8+1)[:max(tc.file, 0)]
			uri := "https://tam.example/payloads/ab"
			w := &payload.Writer{SW: sw}
			if tc.file >= 0 {
				path := filepath.Join(t.TempDir(), "p.bin")
				if err := os.WriteFile(path, content, 0o600); err != nil {
					t.Fatal(err)
				}
				w.Local = map[string]string{uri: path}
			}
			err := w.Write(context.Background(), 43, ipc.PayloadRequest{Index: 2, Component: [][]byte{[]byte("TA")}, URI: uri, Size: uint64(tc.size)})
			if (err == nil) != (tc.file >= tc.size) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Write = %v", err)
			}
			if got := h.Ops(); !slices.Equal(got, tc.wantOps) {
				t.Fatalf("the secure world saw %v, want %v", got, tc.wantOps)
			}
			var got []byte
			for _, c := range h.Calls() {
				if a, ok := c.Args.(ipc.WriteChunkArgs); ok {
					if a.Set != 43 || a.Payload != 2 || a.Offset != uint64(len(got)) {
						t.Fatalf("chunk %+v after %d bytes", a, len(got))
					}
					got = append(got, a.Data...)
				}
			}
			if err == nil && !bytes.Equal(got, content[:tc.size]) {
				t.Fatal("the secure world did not get the payload's bytes")
			}
			if err := w.Cancel(context.Background(), 43, err); err != nil && tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Cancel = %v", err)
			}
			calls := h.Calls()
			if set := calls[len(calls)-1].Args.(ipc.CancelArgs).Set; set != 43 {
				t.Fatalf("cancelled set %d", set)
			}
		})
	}
}
