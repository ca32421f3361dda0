package ipc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// sharedRegions are the regions WriteChunks is tested over: memory of the
// process over Pipe, and a sealed memfd mapped twice as the two worlds map
// it (writable for the normal world, read-only for the secure world) over
// a socket pair. (The race detector sees the order a Pipe gives; it does
// not see that of a socket written with writev, nor track mapped memory.)
var sharedRegions = []struct {
	name  string
	views func(t *testing.T, size int) *sharedViews
	conn  func(t *testing.T) (normal, secure net.Conn)
}{
	{"memory", func(_ *testing.T, size int) *sharedViews {
		s := NewShared(size)
		return &sharedViews{normal: s, secure: s}
	}, func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() }},
	{"memfd", mappedViews, func(t *testing.T) (net.Conn, net.Conn) { return socketPair(t) }},
}

func mappedViews(t *testing.T, size int) *sharedViews {
	t.Helper()
	f, err := CreateShared(size)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	normal, err := MapShared(f, true)
	if err != nil {
		t.Fatal(err)
	}
	secure, err := MapShared(f, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { normal.Close(); secure.Close() })
	return &sharedViews{normal: normal, secure: secure}
}

func startSharedSession(t *testing.T, h Handler, views *sharedViews, conn func(*testing.T) (net.Conn, net.Conn), tap *bytes.Buffer) *testSession {
	t.Helper()
	normal, secure := conn(t)
	var w io.Writer
	if tap != nil {
		w = tap
	}
	return startSessionOn(t, h, sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes}, normal, secure, views, w)
}

// TestWriteChunksShared streams a payload from memory and from a file
// through a shared region: every chunk arrives once, in order, with its
// bytes, though the region holds only SharedSlots of them, and the tap
// saw every byte that went into the region.
func TestWriteChunksShared(t *testing.T) {
	payload := testPayload(3*SharedSlots*MaxChunk + 17)
	for _, r := range sharedRegions {
		for _, fromFile := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/file=%v", r.name, fromFile), func(t *testing.T) {
				h := newFakeHandler()
				var tap bytes.Buffer
				c := startSharedSession(t, h, r.views(t, SharedSlots*MaxChunk), r.conn, &tap).client
				var f *os.File
				if fromFile {
					f = writeTemp(t, payload)
				}
				var yielded int
				if err := c.WriteChunks(context.Background(), 42, 1, payloadChunks(payload, MaxChunk, f, &yielded)); err != nil {
					t.Fatal(err)
				}
				var got []byte
				for _, a := range chunksSeen(h) {
					if a.Set != 42 || a.Payload != 1 || a.Offset != uint64(len(got)) {
						t.Fatalf("chunk %d+%d of set %d payload %d after %d bytes", a.Offset, len(a.Data), a.Set, a.Payload, len(got))
					}
					got = append(got, a.Data...)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("%d chunks yielded, %d bytes arrived: not the payload", yielded, len(got))
				}
				if !bytes.Equal(tap.Bytes(), payload) {
					t.Fatalf("the tap recorded %d bytes, not the payload", tap.Len())
				}
				for _, call := range h.Calls() {
					if call.Op != OpWriteChunk {
						t.Fatalf("the handler saw %v", call.Op)
					}
				}
			})
		}
	}
}

// TestWriteSharedRefused: a WriteShared that names bytes outside the
// region, or comes in a session without one, is refused with a protocol
// error before the handler sees it, and the session goes on.
func TestWriteSharedRefused(t *testing.T) {
	lim := sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes}
	const size = 2 * MaxChunk
	for _, tc := range []struct {
		name   string
		shared *Shared
		args   WriteSharedArgs
		want   error
	}{
		{"no region", nil, WriteSharedArgs{Length: 1}, ErrMalformed},
		{"start past the end", NewShared(size), WriteSharedArgs{Start: size, Length: 1}, ErrLimitExceeded},
		{"end past the end", NewShared(size), WriteSharedArgs{Start: size - 1, Length: 2}, ErrLimitExceeded},
		{"start wraps around", NewShared(size), WriteSharedArgs{Start: ^uint64(0), Length: 2}, ErrLimitExceeded},
		{"longer than a chunk", NewShared(size), WriteSharedArgs{Length: MaxChunk + 1}, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHandler()
			p := startRawShared(t, h, lim, tc.shared)
			p.hello()
			p.send(wire(t, requestWire{Version: ProtocolVersion, ID: 1, Op: OpWriteShared, Args: wire(t, tc.args)}))
			resp, err := DecodeResponse(p.recv(), OpWriteShared)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, resp.Err(), ErrProtocol, tc.want)
			p.send(mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 2, Op: OpQuery, Args: QueryArgs{}}))
			if resp, err := DecodeResponse(p.recv(), OpQuery); err != nil || resp.Err() != nil {
				t.Fatalf("Query after the refusal: %v %v", err, resp.Err())
			}
			if n := len(chunksSeen(h)); n != 0 {
				t.Fatalf("the handler saw %d chunks", n)
			}
		})
	}
}

// scribbler is a handler that checks the data of each chunk twice, apart
// in time, while the normal world rewrites the region: the two reads must
// agree, since the handler holds a copy of its own.
type scribbler struct {
	*fakeHandler
	scribble   func()
	mismatches atomic.Int32
}

func (h *scribbler) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	first := sha256.Sum256(data)
	h.scribble()
	if sha256.Sum256(data) != first {
		h.mismatches.Add(1)
	}
	return h.fakeHandler.WriteChunk(ctx, set, payload, offset, data)
}

// TestSharedRegionRewrittenMidChunk is the double-fetch attack: a normal
// world that rewrites a slot after sending its request, while the secure
// world handles the chunk. The handler's copy does not change, and it
// holds the bytes as they were when the secure world copied them.
func TestSharedRegionRewrittenMidChunk(t *testing.T) {
	views := mappedViews(t, SharedSlots*MaxChunk)
	payload := testPayload(4 * MaxChunk)
	h := &scribbler{fakeHandler: newFakeHandler()}
	h.scribble = func() {
		// The normal world's view: flip every byte of every slot.
		for i := range views.normal.mem {
			views.normal.mem[i] ^= 0xff
		}
	}
	c := startSharedSession(t, h, views, sharedRegions[1].conn, nil).client
	var yielded int
	if err := c.WriteChunks(context.Background(), 1, 0, payloadChunks(payload, MaxChunk, nil, &yielded)); err != nil {
		t.Fatal(err)
	}
	if n := h.mismatches.Load(); n != 0 {
		t.Fatalf("%d chunks changed under the handler", n)
	}
	if n := len(chunksSeen(h.fakeHandler)); n != 4 {
		t.Fatalf("%d chunks", n)
	}
}

// TestSharedRegionReadOnlyInSecureWorld: the secure world's mapping
// cannot be written (a write faults), so nothing can go from the secure
// world to the normal world through it.
func TestSharedRegionReadOnlyInSecureWorld(t *testing.T) {
	views := mappedViews(t, 2*MaxChunk)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (faulted bool) {
		defer func() { faulted = recover() != nil }()
		views.secure.mem[0] = 1
		return false
	}()
	if !faulted {
		t.Fatal("the secure world wrote into the shared region")
	}
	views.normal.mem[0] = 1 // the normal world's view is writable
	if views.secure.mem[0] != 1 {
		t.Fatal("the views are not of one region")
	}
}

// TestSharedRegionSealed: the normal world cannot shrink the region under
// the secure world's mapping (which would make its reads fault), and the
// secure world refuses a region that is not sealed against it.
func TestSharedRegionSealed(t *testing.T) {
	f, err := CreateShared(2 * MaxChunk)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if err := unix.Ftruncate(int(f.Fd()), 4096); err == nil {
		t.Fatal("the region shrank")
	}
	fd, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip(err)
	}
	unsealed := os.NewFile(uintptr(fd), "unsealed")
	defer unsealed.Close()
	if err := unix.Ftruncate(fd, 2*MaxChunk); err != nil {
		t.Fatal(err)
	}
	if s, err := MapShared(unsealed, false); err == nil {
		s.Close()
		t.Fatal("an unsealed region was mapped")
	}
}
