package suit_test

// Round trips between package author, which encrypts, and this package's
// decryptor: they run here, outside package suit, because author imports
// suit.

import (
	"bytes"
	"crypto/ecdh"
	crand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

// seeded is deterministic randomness for tests.
func seeded(seed uint64) io.Reader {
	return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
}

// writeIn writes data to w in pieces of the given size (0: one piece).
func writeIn(w io.Writer, data []byte, piece int) error {
	if piece == 0 {
		piece = len(data) + 1
	}
	for len(data) > 0 {
		n := min(piece, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// writeInLent is writeIn through the writer's Lend: each piece is put
// in the room it lends, when it lends one, and that room written.
func writeInLent(w io.Writer, data []byte, piece int) error {
	l := w.(suit.Lender)
	if piece == 0 {
		piece = len(data) + 1
	}
	for len(data) > 0 {
		n := min(piece, len(data))
		p := data[:n]
		if b := l.Lend(n); b != nil {
			copy(b, p)
			p = b
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// lendingBuffer is a destination that lends a buffer for each piece, as
// the secure world's staging pipeline does, and keeps what it is given.
type lendingBuffer struct {
	out  *bytes.Buffer
	lent []byte
}

func (l *lendingBuffer) Lend(n int) []byte {
	l.lent = make([]byte, n)
	for i := range l.lent {
		l.lent[i] = 0xa5 // not the plaintext, whatever it is
	}
	return l.lent
}

func (l *lendingBuffer) Write(p []byte) (int, error) {
	l.lent = nil
	return l.out.Write(p)
}

// TestDecryptStreaming encrypts payloads of sizes around the AES block
// and the decryption chunk, decrypts them written in pieces of every
// awkward size, copied or put in the room the writer lends, into a
// destination that lends buffers or does not, and checks the plaintext. The GCM tag of the streaming
// GHASH must agree with the standard library's, which produced it.
func TestDecryptStreaming(t *testing.T) {
	recipient, err := ecdh.P256().GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kek := bytes.Repeat([]byte{7}, 16)
	keys := &suit.DeviceKeys{KEK: kek, AgreementKey: recipient}
	sizes := []int{0, 1, 15, 16, 17, 31, 100, suit.DecryptChunk - 1, suit.DecryptChunk, suit.DecryptChunk + 1, 3*suit.DecryptChunk + 5}
	pieces := []int{0, 1, 7, 16, 4096, suit.DecryptChunk + 3}
	for _, alg := range []int64{suit.AlgA128GCM, suit.AlgA128CTR} {
		for _, size := range sizes {
			plain := make([]byte, size)
			seeded(uint64(size)).Read(plain)
			spec := author.EncryptSpec{Alg: alg, KEK: kek, Rand: seeded(uint64(size) + 1)}
			if size%2 == 1 {
				spec = author.EncryptSpec{Alg: alg, RecipientKey: recipient.PublicKey(), Rand: seeded(uint64(size) + 1)}
			}
			ct, info, err := author.EncryptPayload(plain, spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, piece := range pieces {
				if size > 1000 && piece == 1 {
					continue
				}
				for _, lent := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%d/%d/lent=%v", suit.EncryptionAlgName(alg), size, piece, lent), func(t *testing.T) {
						var out bytes.Buffer
						var dst io.Writer = &out
						if lent {
							dst = &lendingBuffer{out: &out}
						}
						w, err := suit.NewDecryptWriter(dst, info, keys)
						if err != nil {
							t.Fatal(err)
						}
						write := writeIn
						if lent {
							write = writeInLent
						}
						if err := write(w, ct, piece); err != nil {
							t.Fatal(err)
						}
						if err := w.Close(); err != nil {
							t.Fatalf("Close: %v", err)
						}
						if !bytes.Equal(out.Bytes(), plain) {
							t.Fatal("plaintext differs")
						}
					})
				}
			}
		}
	}
}

// TestDecryptGCMRefusesAlteredCiphertext flips each bit position class of
// a GCM ciphertext (in the body, in the last piece, in the tag) and
// truncates it: Close must fail with suit.ErrDecryption, and the plaintext of
// the last piece must never reach the destination.
func TestDecryptGCMRefusesAlteredCiphertext(t *testing.T) {
	kek := bytes.Repeat([]byte{9}, 16)
	plain := make([]byte, 2*suit.DecryptChunk+40)
	seeded(3).Read(plain)
	ct, info, err := author.EncryptPayload(plain, author.EncryptSpec{KEK: kek, Rand: seeded(4)})
	if err != nil {
		t.Fatal(err)
	}
	keys := &suit.DeviceKeys{KEK: kek}
	for _, i := range []int{0, suit.DecryptChunk + 5, len(ct) - 17, len(ct) - 1} {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x20
		var out bytes.Buffer
		_, err := suit.Decrypt(&out, bytes.NewReader(bad), info, keys)
		if !errors.Is(err, suit.ErrDecryption) {
			t.Errorf("byte %d flipped: %v, want suit.ErrDecryption", i, err)
		}
		if out.Len() > 2*suit.DecryptChunk {
			t.Errorf("byte %d flipped: %d plaintext bytes written, the last piece included", i, out.Len())
		}
	}
	for _, n := range []int{0, 15, len(ct) - 1} {
		if _, err := suit.Decrypt(io.Discard, bytes.NewReader(ct[:n]), info, keys); !errors.Is(err, suit.ErrDecryption) {
			t.Errorf("truncated to %d: %v, want suit.ErrDecryption", n, err)
		}
	}
}

// slotSink stands for the component a decryption writes into: a slot of
// fixed size, allocated once like flash, that each write copies into. The
// benchmark so measures the decryptor's memory, not the destination's.
type slotSink struct {
	slot []byte
	n    int
}

func (s *slotSink) Write(p []byte) (int, error) {
	if len(p) > len(s.slot)-s.n {
		return 0, io.ErrShortWrite
	}
	s.n += copy(s.slot[s.n:], p)
	return len(p), nil
}

// BenchmarkDecryptWrite measures streaming decryption written into a
// component slot next to SHA-256 over the same bytes (the cost every
// payload pays for image-match anyway), for a 1 MiB and a 64 MiB payload:
// B/op must not grow with the payload (the slot is allocated before the
// timed loop, as flash exists before an update).
func BenchmarkDecryptWrite(b *testing.B) {
	kek := bytes.Repeat([]byte{5}, 16)
	keys := &suit.DeviceKeys{KEK: kek}
	for _, size := range []int{1 << 20, 64 << 20} {
		plain := make([]byte, size)
		seeded(uint64(size)).Read(plain)
		name := fmt.Sprintf("%dMiB", size>>20)
		b.Run(name+"/sha256", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				h := sha256.New()
				if _, err := io.Copy(h, bytes.NewReader(plain)); err != nil {
					b.Fatal(err)
				}
				h.Sum(nil)
			}
		})
		for _, alg := range []int64{suit.AlgA128GCM, suit.AlgA128CTR} {
			ct, info, err := author.EncryptPayload(plain, author.EncryptSpec{Alg: alg, KEK: kek, Rand: seeded(1)})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/"+suit.EncryptionAlgName(alg), func(b *testing.B) {
				sink := &slotSink{slot: make([]byte, size)}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					sink.n = 0
					if _, err := suit.Decrypt(sink, bytes.NewReader(ct), info, keys); err != nil || sink.n != size {
						b.Fatalf("suit.Decrypt: %v (%d bytes)", err, sink.n)
					}
				}
				if !bytes.Equal(sink.slot, plain) {
					b.Fatal("the slot does not hold the plaintext")
				}
			})
		}
	}
}

// TestEncryptionInfoGolden pins the encoding the author side produces for
// a KEK and A128GCM with fixed randomness (the CEK, then the IV), byte by
// byte:
//
//	d8 60                       tag 96 (COSE_Encrypt)
//	84                          array of 4
//	   43 a1 01 01              protected: << {1: 1} >> (alg A128GCM)
//	   a1 05 4c <12 bytes>      unprotected: {5: IV}
//	   f6                       ciphertext: null (detached)
//	   81                       recipients: array of 1
//	      83                    COSE_recipient
//	         40                 protected: h''
//	         a2 01 22 04 45 ... unprotected: {1: -3 (A128KW), 4: 'kid-1'}
//	         58 18 <24 bytes>   the CEK wrapped with the KEK
func TestEncryptionInfoGolden(t *testing.T) {
	random := bytes.NewReader(append(suit.MustHex(t, "15F785B5C931414411B4B71373A9C0F7"), suit.MustHex(t, "F14AAB9D81D51F7AD943FE87")...))
	ct, info, err := author.EncryptPayload([]byte(suit.VectorPlaintext), author.EncryptSpec{KEK: suit.VectorKEK, KID: []byte("kid-1"), Rand: random})
	if err != nil {
		t.Fatal(err)
	}
	// With the draft's CEK and IV the result is the draft's vector.
	wantInfo, wantCT := suit.ReadEncryptionVector(t, "aes-kw-aes-gcm")
	if !bytes.Equal(info, wantInfo) {
		t.Errorf("encryption info:\n got %x\nwant %x", info, wantInfo)
	}
	if !bytes.Equal(ct, wantCT) {
		t.Errorf("ciphertext:\n got %x\nwant %x", ct, wantCT)
	}
	random = bytes.NewReader(append(suit.MustHex(t, "261DE6165070FB8951EC5D7B92A065FE"), suit.MustHex(t, "DAE613B2E0DC55F4322BE38BDBA9DC68")...))
	ct, info, err = author.EncryptPayload([]byte(suit.VectorPlaintext), author.EncryptSpec{Alg: suit.AlgA128CTR, KEK: suit.VectorKEK, KID: []byte("kid-1"), Rand: random})
	if err != nil {
		t.Fatal(err)
	}
	wantInfo, wantCT = suit.ReadEncryptionVector(t, "aes-kw-aes-ctr")
	if !bytes.Equal(info, wantInfo) || !bytes.Equal(ct, wantCT) {
		t.Errorf("A128CTR:\n got %x %x\nwant %x %x", info, ct, wantInfo, wantCT)
	}
}
