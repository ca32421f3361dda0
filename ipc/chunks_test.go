package ipc

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// socketPair returns the ends of a Unix socket pair, as between the two
// processes of a device: a file chunk crosses it by sendfile.
func socketPair(tb testing.TB) (normal, secure net.Conn) {
	tb.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Skip(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socket")
		if conns[i], err = net.FileConn(f); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	return conns[0], conns[1]
}

// transports are the connections WriteChunks runs over: Pipe, which
// buffers nothing, and a socket pair.
var transports = []struct {
	name string
	conn func(t *testing.T) (normal, secure net.Conn)
}{
	{"pipe", func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() }},
	{"socket", func(t *testing.T) (net.Conn, net.Conn) { return socketPair(t) }},
}

func startSessionOver(t *testing.T, h Handler, conn func(*testing.T) (net.Conn, net.Conn)) *testSession {
	t.Helper()
	normal, secure := conn(t)
	return startSessionOn(t, h, sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes}, normal, secure, nil, nil)
}

// payloadChunks yields payload in chunks of n bytes, from memory or from
// the file at path, and counts the chunks it yields.
func payloadChunks(payload []byte, n int, file *os.File, yielded *int) iter.Seq2[uint64, Chunk] {
	return func(yield func(uint64, Chunk) bool) {
		for off := 0; off < len(payload); off += n {
			end := min(off+n, len(payload))
			c := Chunk{Data: payload[off:end]}
			if file != nil {
				c = Chunk{File: file, Off: int64(off), Len: end - off}
			}
			*yielded++
			if !yield(uint64(off), c) {
				return
			}
		}
	}
}

func writeTemp(t *testing.T, b []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func testPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// chunksSeen returns the WriteChunk calls h saw, as offset:length.
func chunksSeen(h *fakeHandler) []WriteChunkArgs {
	var out []WriteChunkArgs
	for _, c := range h.Calls() {
		if a, ok := c.Args.(WriteChunkArgs); ok {
			out = append(out, a)
		}
	}
	return out
}

// TestWriteChunks streams a payload from memory and from a file, over
// both transports: every chunk arrives once, in order, at its offset,
// with its bytes, as many chunks in flight as the channel allows.
func TestWriteChunks(t *testing.T) {
	const chunk = 64 << 10
	payload := testPayload(5*chunk + 17)
	for _, tr := range transports {
		for _, fromFile := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/file=%v", tr.name, fromFile), func(t *testing.T) {
				h := newFakeHandler()
				c := startSessionOver(t, h, tr.conn).client
				var f *os.File
				if fromFile {
					f = writeTemp(t, payload)
				}
				var yielded int
				if err := c.WriteChunks(context.Background(), 42, 1, payloadChunks(payload, chunk, f, &yielded)); err != nil {
					t.Fatal(err)
				}
				seen := chunksSeen(h)
				if len(seen) != 6 || yielded != 6 {
					t.Fatalf("%d chunks yielded, %d arrived, want 6", yielded, len(seen))
				}
				var got []byte
				for _, a := range seen {
					if a.Set != 42 || a.Payload != 1 || a.Offset != uint64(len(got)) {
						t.Fatalf("chunk %d+%d of set %d payload %d after %d bytes", a.Offset, len(a.Data), a.Set, a.Payload, len(got))
					}
					got = append(got, a.Data...)
				}
				if !bytes.Equal(got, payload) {
					t.Fatal("the chunks do not add up to the payload")
				}
				if _, err := c.Query(context.Background()); err != nil {
					t.Fatalf("Query after the stream: %v", err)
				}
			})
		}
	}
}

// refuseAt refuses the chunk at one offset.
type refuseAt struct {
	*fakeHandler
	off uint64
}

func (h refuseAt) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	h.fakeHandler.WriteChunk(ctx, set, payload, offset, data)
	if offset == h.off {
		return Errorf(OutOfRange, "chunk at %d refused", offset)
	}
	return nil
}

// TestWriteChunksStopsAtRefusal: a chunk the secure world refuses, or
// one too long to send, stops the stream within the requests in flight;
// WriteChunks returns that refusal and the client stays usable.
func TestWriteChunksStopsAtRefusal(t *testing.T) {
	const chunk = 4 << 10
	payload := testPayload(20 * chunk)
	for _, tr := range transports {
		t.Run(tr.name+"/refused", func(t *testing.T) {
			h := refuseAt{newFakeHandler(), 3 * chunk}
			c := startSessionOver(t, h, tr.conn).client
			var yielded int
			err := c.WriteChunks(context.Background(), 1, 0, payloadChunks(payload, chunk, nil, &yielded))
			wantErr(t, err, ErrSecure, ErrOutOfRange)
			// Once the refusal of the 4th is read, at most chunksInFlight
			// more are sent, and one more yielded.
			if seen := len(chunksSeen(h.fakeHandler)); seen > 4+chunksInFlight || yielded > seen+1 {
				t.Errorf("%d chunks yielded, %d sent, after a refusal of the 4th", yielded, seen)
			}
			if _, err := c.Query(context.Background()); err != nil {
				t.Fatalf("Query after a refusal: %v", err)
			}
		})
		t.Run(tr.name+"/too long", func(t *testing.T) {
			h := newFakeHandler()
			c := startSessionOver(t, h, tr.conn).client
			chunks := func(yield func(uint64, Chunk) bool) {
				_ = yield(0, Chunk{Data: payload[:chunk]}) &&
					yield(chunk, Chunk{Data: payload[chunk : 2*chunk]}) &&
					yield(2*chunk, Chunk{Data: make([]byte, c.MaxChunk()+1)}) &&
					yield(3*chunk, Chunk{Data: payload[:chunk]})
			}
			wantErr(t, c.WriteChunks(context.Background(), 1, 0, chunks), ErrProtocol, ErrLimitExceeded)
			if seen := chunksSeen(h); len(seen) != 2 {
				t.Fatalf("%d chunks arrived, want the 2 before the long one", len(seen))
			}
			if _, err := c.Query(context.Background()); err != nil {
				t.Fatalf("Query after a chunk too long: %v", err)
			}
		})
	}
}

// TestWriteChunksFileTooShort: a file that ends inside its chunk leaves a
// frame unfinished, which breaks the session.
func TestWriteChunksFileTooShort(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := startSessionOver(t, newFakeHandler(), tr.conn).client
			f := writeTemp(t, testPayload(1000))
			chunks := func(yield func(uint64, Chunk) bool) { yield(0, Chunk{File: f, Off: 0, Len: 2000}) }
			wantErr(t, c.WriteChunks(context.Background(), 1, 0, chunks), ErrTransport)
			wantErr(t, c.Accept(context.Background()), ErrTransport)
		})
	}
}

// TestWriteChunksAbandoned: a stream whose ctx ends breaks the session,
// as any call abandoned half way does.
func TestWriteChunksAbandoned(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			c := startSessionOver(t, newFakeHandler(), tr.conn).client
			ctx, cancel := context.WithCancel(context.Background())
			payload := testPayload(8 << 10)
			chunks := func(yield func(uint64, Chunk) bool) {
				for off := 0; off < len(payload); off += 1 << 10 {
					if off == 2<<10 {
						cancel()
					}
					if !yield(uint64(off), Chunk{Data: payload[off : off+1<<10]}) {
						return
					}
				}
			}
			wantErr(t, c.WriteChunks(ctx, 1, 0, chunks), ErrTransport)
			wantErr(t, c.Accept(context.Background()), ErrTransport)
		})
	}
}

// waitFirst holds the answer to the first chunk until released.
type waitFirst struct {
	*fakeHandler
	release chan struct{}
}

func (h waitFirst) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	if offset == 0 {
		select {
		case <-h.release:
		case <-time.After(10 * time.Second):
			return Errorf(Internal, "the second chunk was not received during the first")
		}
	}
	return h.fakeHandler.WriteChunk(ctx, set, payload, offset, data)
}

// TestServeReadsAheadDuringChunk: over Pipe, which buffers nothing, the
// second chunk can be sent only if the secure world reads it while it
// still handles the first.
func TestServeReadsAheadDuringChunk(t *testing.T) {
	h := waitFirst{newFakeHandler(), make(chan struct{})}
	c := startSession(t, h).client
	chunks := func(yield func(uint64, Chunk) bool) {
		for i := range 3 {
			if i == 2 {
				close(h.release) // the second was sent
			}
			if !yield(uint64(i), Chunk{Data: []byte{byte(i)}}) {
				return
			}
		}
	}
	if err := c.WriteChunks(context.Background(), 1, 0, chunks); err != nil {
		t.Fatal(err)
	}
	if n := len(chunksSeen(h.fakeHandler)); n != 3 {
		t.Fatalf("%d chunks arrived, want 3", n)
	}
}
