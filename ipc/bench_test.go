package ipc

import (
	"context"
	"net"
	"os"
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
	normal, secure := net.Pipe()
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

// BenchmarkWriteChunks streams 1 MiB chunks with several in flight over a
// Unix socket pair, from memory and from a file (sendfile).
func BenchmarkWriteChunks(b *testing.B) {
	chunk := make([]byte, MaxChunk)
	for _, fromFile := range []bool{false, true} {
		b.Run(map[bool]string{false: "memory", true: "file"}[fromFile], func(b *testing.B) {
			normal, secure := socketPair(b)
			done := make(chan error, 1)
			go func() {
				done <- Serve(context.Background(), secure, nopHandler{newFakeHandler()})
				secure.Close()
			}()
			c, err := NewClient(normal)
			if err != nil {
				b.Fatal(err)
			}
			var f *os.File
			if fromFile {
				path := filepath.Join(b.TempDir(), "payload")
				if err := os.WriteFile(path, chunk, 0o600); err != nil {
					b.Fatal(err)
				}
				if f, err = os.Open(path); err != nil {
					b.Fatal(err)
				}
				defer f.Close()
			}
			b.SetBytes(MaxChunk)
			b.ResetTimer()
			chunks := func(yield func(uint64, Chunk) bool) {
				for i := 0; b.Loop(); i++ {
					ch := Chunk{Data: chunk}
					if f != nil {
						ch = Chunk{File: f, Len: MaxChunk}
					}
					if !yield(uint64(i)*MaxChunk, ch) {
						return
					}
				}
			}
			if err := c.WriteChunks(context.Background(), 1, 0, chunks); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			c.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
