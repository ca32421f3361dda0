package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"one byte", 1},
		{"small", 100},
		{"one chunk", MaxChunk},
		{"max frame", MaxFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte{0xa5}, tc.size)
			var buf bytes.Buffer
			if err := WriteFrame(&buf, body); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.Len(), frameHeader+tc.size; got != want {
				t.Fatalf("frame of %d bytes, want %d", got, want)
			}
			// A second frame behind it must stay unread.
			buf.Write([]byte{0, 0, 0, 1, 0xee})
			got, err := ReadFrame(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Fatal("body differs")
			}
			if buf.Len() != 5 {
				t.Fatalf("ReadFrame consumed %d bytes past its frame", 5-buf.Len())
			}
		})
	}
}

// TestFramePrefixes checks that every strict prefix of a frame fails to
// parse, as a Transport error (the stream ended early), never as a frame.
func TestFramePrefixes(t *testing.T) {
	req := mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 1, Op: OpWriteChunk,
		Args: WriteChunkArgs{Set: 1, Payload: 2, Offset: 3, Data: []byte("chunk")}})
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"one byte", []byte{0x80}},
		{"request", req},
		{"256 bytes", bytes.Repeat([]byte{1}, 256)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFrame(&buf, tc.body); err != nil {
				t.Fatal(err)
			}
			frame := buf.Bytes()
			for n := 0; n < len(frame); n++ {
				got, err := ReadFrame(bytes.NewReader(frame[:n]))
				if err == nil {
					t.Fatalf("prefix of %d/%d bytes parsed as %x", n, len(frame), got)
				}
				wantErr(t, err, ErrTransport)
				wantEOF := io.ErrUnexpectedEOF
				if n == 0 {
					wantEOF = io.EOF
				}
				if !errors.Is(err, wantEOF) {
					t.Errorf("prefix of %d bytes: %v, want %v", n, err, wantEOF)
				}
				if n > 0 && len(tc.body) == len(req) {
					if _, err := DecodeRequest(frame[frameHeader:max(n, frameHeader)]); err == nil {
						t.Errorf("body prefix of %d bytes decoded", n-frameHeader)
					}
				}
			}
			if _, err := ReadFrame(bytes.NewReader(frame)); err != nil {
				t.Fatalf("whole frame: %v", err)
			}
		})
	}
}

func TestReadFrameBadLength(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header uint32
		want   error
	}{
		{"zero", 0, ErrMalformed},
		{"one past the bound", MaxFrame + 1, ErrLimitExceeded},
		{"4 GiB", 0xffffffff, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := binary.BigEndian.AppendUint32(nil, tc.header)
			in = append(in, bytes.Repeat([]byte{0}, 64)...)
			_, err := ReadFrame(bytes.NewReader(in))
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

// claimReader yields a frame header claiming n bytes, then counts any
// further read: a bad length must be refused without reading on.
type claimReader struct {
	hdr   []byte
	extra int
}

func (r *claimReader) Read(p []byte) (int, error) {
	if len(r.hdr) == 0 {
		r.extra++
		return 0, io.ErrNoProgress
	}
	n := copy(p, r.hdr)
	r.hdr = r.hdr[n:]
	return n, nil
}

func TestReadFrameOversizeAllocatesNothing(t *testing.T) {
	// The least of a few runs, so that another goroutine of the test
	// binary allocating at the same moment cannot fail the test.
	least := ^uint64(0)
	for range 5 {
		r := &claimReader{hdr: []byte{0xff, 0xff, 0xff, 0xff}}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadFrame(r)
		runtime.ReadMemStats(&after)
		wantErr(t, err, ErrProtocol, ErrLimitExceeded)
		if r.extra != 0 {
			t.Errorf("read %d more times after a 4 GiB header", r.extra)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	// Only the error itself may be allocated; the body would be 4 GiB,
	// and even a MaxFrame buffer is a megabyte.
	if least > 64<<10 {
		t.Errorf("allocated %d bytes refusing a 4 GiB frame", least)
	}
}

func TestWriteFrameRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want error
	}{
		{"empty", 0, ErrMalformed},
		{"one past the bound", MaxFrame + 1, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteFrame(&buf, make([]byte, tc.size))
			wantErr(t, err, ErrProtocol, tc.want)
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes", buf.Len())
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteFrameTransportError(t *testing.T) {
	err := WriteFrame(failWriter{}, []byte{1})
	wantErr(t, err, ErrTransport, io.ErrClosedPipe)
}
