package ipctest

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"time"
)

// Recorder wraps one end of a connection and keeps a copy of every byte
// that crosses it, in each direction, so that a test can assert what did
// or did not cross (a key, a plaintext). It keeps everything: use it in
// tests only. It is safe for concurrent use; reads and writes may proceed
// in parallel, as on the connection it wraps.
type Recorder struct {
	rw io.ReadWriter

	mu       sync.Mutex
	sent     []byte
	received []byte
}

// NewRecorder wraps rw.
func NewRecorder(rw io.ReadWriter) *Recorder { return &Recorder{rw: rw} }

// Read reads from the wrapped end and records what arrived.
func (r *Recorder) Read(p []byte) (int, error) {
	n, err := r.rw.Read(p)
	r.mu.Lock()
	r.received = append(r.received, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// Write writes to the wrapped end and records what it accepted.
func (r *Recorder) Write(p []byte) (int, error) {
	n, err := r.rw.Write(p)
	r.mu.Lock()
	r.sent = append(r.sent, p[:n]...)
	r.mu.Unlock()
	return n, err
}

// Close closes the wrapped end if it is an io.Closer.
func (r *Recorder) Close() error {
	if c, ok := r.rw.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// SetDeadline sets the wrapped end's deadline if it has one, so that Serve
// can still be cancelled through a Recorder.
func (r *Recorder) SetDeadline(t time.Time) error {
	if d, ok := r.rw.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return errors.ErrUnsupported
}

// Sent returns a copy of every byte written through r so far.
func (r *Recorder) Sent() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.sent)
}

// Received returns a copy of every byte read through r so far.
func (r *Recorder) Received() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.received)
}

// Crossed reports whether b appears, contiguous, in either direction. A
// value split across two frames (two WriteChunks, say) has a frame header
// between its parts and is not found: search for pieces shorter than a
// chunk, or for the chunks themselves.
func (r *Recorder) Crossed(b []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Contains(r.sent, b) || bytes.Contains(r.received, b)
}
