package ipc

import (
	"context"
	"net"
	"path/filepath"
	"testing"
)

// nopHandler accepts every chunk and does nothing with it, so that the
// benchmarks measure the channel alone.
type nopHandler struct{ *fakeHandler }

func (nopHandler) WriteChunk(context.Context, uint64, uint32, uint64, []byte) error { return nil }

func benchmarkWriteChunk(b *testing.B, normal, secure net.Conn) {
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), secure, nopHandler{newFakeHandler()})
		secure.Close()
	}()
	c, err := NewClient(normal)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, MaxChunk)
	ctx := context.Background()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := c.WriteChunk(ctx, 1, 0, uint64(i)*MaxChunk, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteChunk writes 1 MiB chunks over Pipe: the codec and the
// session, without a kernel.
func BenchmarkWriteChunk(b *testing.B) {
	normal, secure := Pipe()
	benchmarkWriteChunk(b, normal, secure)
}

// BenchmarkWriteChunkUnix writes 1 MiB chunks over a Unix socket, as
// between the two processes of a device.
func BenchmarkWriteChunkUnix(b *testing.B) {
	l, err := net.Listen("unix", filepath.Join(b.TempDir(), "s"))
	if err != nil {
		b.Skip(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	normal, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	secure, ok := <-accepted
	if !ok {
		b.Fatal("accept failed")
	}
	benchmarkWriteChunk(b, normal, secure)
}
