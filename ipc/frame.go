package ipc

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
)

// frameHeader is the size of a frame's length prefix.
const frameHeader = 4

// ReadFrame reads one frame from r: a 4-byte big-endian length, then that
// many bytes of body, which it returns. A length of 0 is Malformed and a
// length over MaxFrame is LimitExceeded, both Protocol errors returned
// before the body is allocated; after either, the stream is out of step
// and must be abandoned. A stream that ends before the first byte of a
// frame gives a Transport error wrapping io.EOF; one that ends inside a
// frame, a Transport error wrapping io.ErrUnexpectedEOF.
//
// ReadFrame reads exactly one frame and nothing past it. Concurrent calls
// on the same r interleave.
func ReadFrame(r io.Reader) ([]byte, error) {
	n, err := readHeader(r, MaxFrame)
	if err != nil {
		return nil, err
	}
	return readBody(r, make([]byte, n))
}

// readHeader reads a frame length and checks it against 1..limit.
func readHeader(r io.Reader, limit uint32) (uint32, error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, readError("frame header", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return 0, protocolError(Malformed, "empty frame", nil)
	case n > limit:
		return 0, protocolError(LimitExceeded, "frame of "+strconv.FormatUint(uint64(n), 10)+" bytes, bound "+strconv.FormatUint(uint64(limit), 10), nil)
	}
	return n, nil
}

// readBody reads into body a frame body whose length readHeader has
// bounded.
func readBody(r io.Reader, body []byte) ([]byte, error) {
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, readError("frame body", err)
	}
	return body, nil
}

func readError(what string, err error) *Error {
	return transportError("read "+what, err)
}

// WriteFrame writes body as one frame to w. A body that is empty or over
// MaxFrame is refused with a Protocol error and nothing is written; a
// write failure is a Transport error. Concurrent calls on the same w
// interleave.
func WriteFrame(w io.Writer, body []byte) error {
	return writeFrame(w, body, MaxFrame)
}

func writeFrame(w io.Writer, body []byte, limit uint32) error {
	return writeMessage(w, message{head: body}, limit)
}

// writeMessage writes the parts of m as one frame.
func writeMessage(w io.Writer, m message, limit uint32) error {
	n := m.len()
	switch {
	case n == 0:
		return protocolError(Malformed, "empty frame", nil)
	case uint64(n) > uint64(limit):
		return protocolError(LimitExceeded, "frame of "+strconv.Itoa(n)+" bytes, bound "+strconv.FormatUint(uint64(limit), 10), nil)
	}
	var hdr [frameHeader]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(n))
	// net.Buffers writes the parts with one writev on a socket, and with
	// one Write each elsewhere, without copying them together.
	bufs := net.Buffers{hdr[:], m.head}
	if len(m.tail) > 0 {
		bufs = append(bufs, m.tail)
	}
	if _, err := bufs.WriteTo(w); err != nil {
		return transportError("write frame", err)
	}
	return nil
}
