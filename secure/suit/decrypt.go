package suit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/teeup/teeup/internal/gcm"
)

// gcmTagSize is the tag that A128GCM appends to a payload's ciphertext.
const gcmTagSize = gcm.TagSize

// DecryptWriter decrypts a detached ciphertext written to it and writes
// the plaintext on to its destination, chunk by chunk, in memory that does
// not grow with the payload (one buffer of 1 MiB and a tag).
//
// With A128GCM the plaintext cannot be known authentic before the last
// byte: Close checks the tag and returns an ErrDecryption error if it does
// not verify. Everything written to the destination before that is
// unauthenticated, and the caller must discard it (erase the component, or
// never mark it valid) unless Close returns nil. With A128CTR there is no
// tag: the manifest must check image-match on the plaintext.
//
// A DecryptWriter is for one payload and one goroutine.
type DecryptWriter struct {
	dst    io.Writer
	alg    int64
	ctr    cipher.Stream
	ghash  *gcm.GHASH // nil for CTR
	j0     [16]byte   // the pre-counter block of the payload's IV (GCM)
	aadLen uint64
	buf    []byte // pending ciphertext; cap decryptChunk + tag
	hold   int    // bytes held back as a possible tag
	total  uint64 // ciphertext bytes taken, tag included
	err    error
	closed bool
}

var errWriterClosed = errors.New("suit: decrypt writer closed")

// A Lender is a writer that lends the buffer its next Write should be
// given (n bytes, or nil when it cannot), so that whoever writes to it
// can produce the bytes in place rather than have them copied: the
// DecryptWriter decrypts into it, and lends its own buffer for the
// ciphertext in turn.
type Lender interface {
	Lend(n int) []byte
}

// NewDecryptWriter parses encInfo (a SUIT_Encryption_Info), recovers the
// content key from the first recipient keys can open, and returns a writer
// that decrypts into dst. Errors wrap ErrRejected: ErrMalformed or
// ErrUnsupported for the encryption info, ErrNoDecryptionKey when no
// recipient is for this device, ErrDecryption when a key fails to unwrap.
func NewDecryptWriter(dst io.Writer, encInfo []byte, keys KeySource) (*DecryptWriter, error) {
	info, err := ParseEncryptionInfo(encInfo)
	if err != nil {
		return nil, err
	}
	cek, err := contentKey(info, keys)
	if err != nil {
		return nil, fmt.Errorf("encryption info: %w", err)
	}
	defer clear(cek)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	w := &DecryptWriter{dst: dst, alg: info.Alg}
	switch info.Alg {
	case AlgA128CTR:
		w.ctr = cipher.NewCTR(block, info.IV)
		w.buf = make([]byte, 0, decryptChunk)
	case AlgA128GCM:
		if w.ghash, err = gcm.New(block, decryptChunk); err != nil {
			return nil, err
		}
		copy(w.j0[:], info.IV)
		w.j0[15] = 1
		// The payload's keystream starts at inc32(J0) = IV || 0^30 || 2.
		j := w.j0
		j[15] = 2
		w.ctr = cipher.NewCTR(block, j[:])
		w.hold = gcmTagSize
		w.buf = make([]byte, 0, decryptChunk+gcmTagSize)
		aad := EncStructure(info.Protected)
		w.aadLen = uint64(len(aad))
		w.ghash.Update(padBlocks(aad))
	}
	return w, nil
}

// EncStructure encodes the AEAD additional data of COSE_Encrypt with an
// empty external AAD, which the author seals and the decryptor checks: ["Encrypt", protected, h”] (RFC 9052 §5.3).
func EncStructure(protected []byte) []byte {
	out := append([]byte{0x83, 0x67}, "Encrypt"...)
	out = append(append(out, bstrHead(len(protected))...), protected...)
	return append(out, 0x40)
}

func padBlocks(b []byte) []byte {
	if r := len(b) % 16; r != 0 {
		b = append(b, make([]byte, 16-r)...)
	}
	return b
}

// Lend implements Lender: the room for the next n bytes of ciphertext in
// the writer's buffer, nil if there is not that much. A Write of exactly
// that slice, filled, takes it without a copy.
func (w *DecryptWriter) Lend(n int) []byte {
	if w.closed || w.err != nil || n <= 0 || n > cap(w.buf)-len(w.buf) {
		return nil
	}
	return w.buf[len(w.buf) : len(w.buf)+n]
}

// Write implements io.Writer.
func (w *DecryptWriter) Write(p []byte) (int, error) {
	if err := w.check(uint64(len(p))); err != nil {
		return 0, err
	}
	n := len(p)
	if len(p) > 0 && len(w.buf) < cap(w.buf) && &p[0] == &w.buf[:len(w.buf)+1][len(w.buf)] && len(p) <= cap(w.buf)-len(w.buf) {
		// The bytes are in the room Lend gave out.
		w.buf = w.buf[:len(w.buf)+len(p)]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
	for len(p) > 0 {
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// ReadFrom reads ciphertext from src straight into the chunk buffer, so
// that io.Copy(w, src) allocates nothing.
func (w *DecryptWriter) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.check(0); err != nil {
			return total, err
		}
		n, err := src.Read(w.buf[len(w.buf):cap(w.buf)])
		if n > 0 {
			if cerr := w.check(uint64(n)); cerr != nil {
				return total, cerr
			}
			total += int64(n)
			w.buf = w.buf[:len(w.buf)+n]
			if len(w.buf) == cap(w.buf) {
				if ferr := w.flush(); ferr != nil {
					return total, ferr
				}
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *DecryptWriter) check(n uint64) error {
	if w.closed {
		return errWriterClosed
	}
	if w.err != nil {
		return w.err
	}
	w.total += n
	if w.total > MaxEncryptedPayloadSize {
		w.err = fmt.Errorf("%w: ciphertext exceeds %d bytes", ErrMalformed, uint64(MaxEncryptedPayloadSize))
		return w.err
	}
	return nil
}

// flush decrypts the full chunk at the front of the buffer and keeps the
// held-back bytes that follow it.
func (w *DecryptWriter) flush() error {
	chunk := w.buf[:len(w.buf)-w.hold]
	if err := w.emit(chunk); err != nil {
		return err
	}
	n := copy(w.buf, w.buf[len(chunk):])
	w.buf = w.buf[:n]
	return nil
}

// emit hashes (GCM) and decrypts ct, into a buffer the destination
// lends if it is a Lender, else in place, then writes it on. ct is a
// whole number of blocks except for the last piece of a payload.
func (w *DecryptWriter) emit(ct []byte) error {
	if len(ct) == 0 {
		return nil
	}
	if w.ghash != nil {
		w.ghash.Update(ct)
	}
	out := ct
	if l, ok := w.dst.(Lender); ok {
		if b := l.Lend(len(ct)); len(b) == len(ct) {
			out = b
		}
	}
	w.ctr.XORKeyStream(out, ct)
	if _, err := w.dst.Write(out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close decrypts what remains and, for A128GCM, verifies the tag in
// constant time. Only a nil result means the plaintext written is
// authentic (GCM) or complete (CTR).
func (w *DecryptWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.ghash == nil {
		return w.emit(w.buf)
	}
	if len(w.buf) < gcmTagSize {
		return fmt.Errorf("%w: ciphertext shorter than the GCM tag", ErrDecryption)
	}
	ctLen := len(w.buf) - gcmTagSize
	var tag [gcmTagSize]byte
	copy(tag[:], w.buf[ctLen:])
	// GHASH pads the last piece with zeros; the buffer has room for it.
	padded := w.buf[:ctLen+(16-ctLen%16)%16]
	clear(padded[ctLen:])
	w.ghash.Update(padded)
	ct := w.buf[:ctLen]
	w.ctr.XORKeyStream(ct, ct)
	want := w.ghash.Tag(w.j0, w.aadLen, w.total-gcmTagSize)
	if subtle.ConstantTimeCompare(want[:], tag[:]) != 1 {
		// The plaintext of the last piece is never written: nothing
		// unauthenticated leaves that the tag could still reject.
		clear(ct)
		return fmt.Errorf("%w: GCM tag does not verify", ErrDecryption)
	}
	if _, err := w.dst.Write(ct); err != nil {
		return err
	}
	return nil
}

// Decrypt decrypts the whole ciphertext src into dst in constant memory;
// see DecryptWriter for what a failure means for what dst received.
func Decrypt(dst io.Writer, src io.Reader, encInfo []byte, keys KeySource) (int64, error) {
	w, err := NewDecryptWriter(dst, encInfo, keys)
	if err != nil {
		return 0, err
	}
	if _, err := w.ReadFrom(src); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return int64(w.total) - int64(w.hold), nil
}

// PlaintextSize returns the plaintext size of a ciphertext of n bytes
// under the encryption info's algorithm.
func (e *EncryptionInfo) PlaintextSize(n uint64) (uint64, error) {
	if e.Alg != AlgA128GCM {
		return n, nil
	}
	if n < gcmTagSize {
		return 0, fmt.Errorf("%w: ciphertext shorter than the GCM tag", ErrDecryption)
	}
	return n - gcmTagSize, nil
}

// CiphertextSize returns the size of the ciphertext of a plaintext of n
// bytes under the encryption info's algorithm: what a device receives.
func (e *EncryptionInfo) CiphertextSize(n uint64) uint64 {
	if e.Alg != AlgA128GCM {
		return n
	}
	return n + gcmTagSize
}
