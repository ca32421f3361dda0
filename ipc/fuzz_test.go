package ipc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
)

func seedFrames(f *testing.F) [][]byte {
	var frames [][]byte
	for _, tc := range testRequests() {
		var buf bytes.Buffer
		if err := WriteFrame(&buf, mustEncode(f, EncodeRequest, tc.req)); err != nil {
			f.Fatal(err)
		}
		frames = append(frames, buf.Bytes())
	}
	return frames
}

// FuzzReadFrame: a frame either parses, within bounds, and re-frames to
// exactly the bytes it consumed, or fails with an *Error. A body that
// decodes as a request re-encodes to itself.
func FuzzReadFrame(f *testing.F) {
	for _, fr := range seedFrames(f) {
		f.Add(fr)
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		body, err := ReadFrame(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is no *Error", err, err)
			}
			return
		}
		if len(body) == 0 || len(body) > MaxFrame {
			t.Fatalf("body of %d bytes", len(body))
		}
		consumed := len(data) - r.Len()
		var again bytes.Buffer
		if err := WriteFrame(&again, body); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), data[:consumed]) {
			t.Fatalf("re-framed %x, read %x", again.Bytes(), data[:consumed])
		}
		checkRequest(t, body)
	})
}

// FuzzDecodeRequest: a body either decodes and re-encodes to exactly
// itself (the decoder accepts only the deterministic encoding), or fails
// with a Protocol *Error.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range testRequests() {
		f.Add(mustEncode(f, EncodeRequest, tc.req))
	}
	f.Add([]byte{0x84, 0x02, 0x01, 0x18, 0x63, 0x80})
	f.Add([]byte{0xa2, 0x01, 0x01, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRequest(t, data)
	})
}

func checkRequest(t *testing.T, data []byte) {
	t.Helper()
	req, err := DecodeRequest(data)
	if err != nil {
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("error %v is not a protocol error", err)
		}
		return
	}
	again, err := EncodeRequest(req)
	if err != nil {
		t.Fatalf("decoded request %+v does not encode: %v", req, err)
	}
	if !bytes.Equal(again, data) {
		t.Fatalf("re-encoded %x, decoded from %x", again, data)
	}
}

// FuzzDecodeResponse: as FuzzDecodeRequest, for the client's decoder.
func FuzzDecodeResponse(f *testing.F) {
	for _, tc := range testResponses() {
		f.Add(mustEncode(f, EncodeResponse, tc.resp), uint32(tc.op))
	}
	f.Fuzz(func(t *testing.T, data []byte, op uint32) {
		resp, err := DecodeResponse(data, Op(op))
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		again, err := EncodeResponse(resp)
		if err != nil {
			t.Fatalf("decoded response %+v does not encode: %v", resp, err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoded %x, decoded from %x", again, data)
		}
	})
}

// FuzzServe feeds a fuzzed stream to Serve as the normal world, with a
// small shared region for its WriteShared requests. Serve must not panic,
// must end (the stream is finite), and must return nil or an *Error.
func FuzzServe(f *testing.F) {
	var hello bytes.Buffer
	if err := WriteFrame(&hello, mustEncode(f, EncodeHello, &Hello{Version: ProtocolVersion, Role: RoleNormal})); err != nil {
		f.Fatal(err)
	}
	var all bytes.Buffer
	all.Write(hello.Bytes())
	for _, fr := range seedFrames(f) {
		f.Add(append(bytes.Clone(hello.Bytes()), fr...))
		all.Write(fr)
	}
	f.Add(all.Bytes())
	f.Add(append(bytes.Clone(hello.Bytes()), 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ServeShared(context.Background(), rwConn{bytes.NewReader(data), io.Discard}, newFakeHandler(), NewShared(4096))
		// A session ends cleanly, with a typed *Error, or with ErrReboot
		// after a well-formed Reboot the handler agreed to.
		var e *Error
		if err != nil && !errors.As(err, &e) && !errors.Is(err, ErrReboot) {
			t.Fatalf("Serve returned %T %v", err, err)
		}
	})
}
