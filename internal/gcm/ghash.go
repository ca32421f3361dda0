// Package gcm computes GHASH (NIST SP 800-38D §6.4) as a stream and the
// GCM tag from it, for a decryptor that checks the tag of a payload it
// never holds whole (secure/suit's DecryptWriter): the standard library
// authenticates only whole messages.
//
// Trust: none beyond its caller. It is arithmetic over what it is given;
// its only key material is the block cipher it is made with, and the
// verdict (comparing tags in constant time) is the caller's.
package gcm

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// TagSize is the size of a GCM tag and of a GHASH value.
const TagSize = 16

// BlockSize is GHASH's block: Update takes whole blocks.
const BlockSize = 16

// elem is an element of GF(2^128) in GCM's bit order: hi holds bytes 0-7
// of the block big-endian, lo bytes 8-15.
type elem struct{ hi, lo uint64 }

func load(b []byte) elem {
	return elem{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (x elem) bytes() (b [16]byte) {
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:16], x.lo)
	return b
}

func (x elem) xor(y elem) elem { return elem{x.hi ^ y.hi, x.lo ^ y.lo} }

// mul multiplies in GCM's field (NIST SP 800-38D, Algorithm 1), with no
// branch on the operands, which derive from the key.
func mul(x, y elem) elem {
	var z elem
	v := y
	for i := range 128 {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		z.hi ^= v.hi & -bit
		z.lo ^= v.lo & -bit
		lsb := v.lo & 1
		v.lo = v.lo>>1 | v.hi<<63
		v.hi = v.hi>>1 ^ 0xe100000000000000&-lsb
	}
	return z
}

// pow returns x^n.
func pow(x elem, n uint64) elem {
	r := elem{hi: 1 << 63} // the field's one
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r = mul(r, x)
		}
		x = mul(x, x)
	}
	return r
}

// GHASH computes GHASH_H (SP 800-38D §6.4) over a stream given in pieces
// that are each a whole number of blocks, at the speed of the standard
// library's hardware GHASH, in constant memory.
//
// The standard library has no incremental GHASH, but Seal with an empty
// plaintext computes the tag of its additional data A alone:
//
//	Seal(A) = (Y(A) ⊕ L(A))·H ⊕ E(K, J0)
//
// where Y(A) is the GHASH state after A's blocks starting from zero, L(A)
// the length block [8·len(A), 0] and J0 the fixed counter block of the
// nonce used here. GHASH is linear: processing m more blocks from state X
// gives X·H^m ⊕ Y(A). Keeping S = X·H, one piece updates it as
//
//	S ← S·H^m ⊕ Seal(A) ⊕ E(K, J0) ⊕ L(A)·H
//
// which costs one Seal (hardware) and one multiplication in software per
// piece. Pieces of the chunk size New was given reuse a precomputed H^m
// and L·H.
//
// A GHASH is for one message and one goroutine.
type GHASH struct {
	block  cipher.Block
	aead   cipher.AEAD // keyed like block; used only to hash
	nonce  [12]byte    // all zero: the J0 that mask undoes
	mask   elem        // E(K, nonce || 0^31 || 1)
	h      elem        // E(K, 0^128)
	chunk  int         // the piece size chunkH and chunkC are for; 0: none
	chunkH elem        // H^(chunk/16)
	chunkC elem        // mask ⊕ L(chunk)·H
	s      elem        // S = X·H
	tag    [TagSize]byte
}

// New returns a GHASH keyed by block (AES: the hash subkey is
// H = E(K, 0^128)), in the zero state. chunk, a multiple of BlockSize or
// 0, is the piece size whose per-piece constants it precomputes.
func New(block cipher.Block, chunk int) (*GHASH, error) {
	if block.BlockSize() != BlockSize {
		return nil, errors.New("gcm: GHASH needs a 128-bit block cipher")
	}
	if chunk < 0 || chunk%BlockSize != 0 {
		return nil, errors.New("gcm: the chunk size must be a multiple of the block size")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	g := &GHASH{block: block, aead: aead, chunk: chunk}
	var b [16]byte
	block.Encrypt(b[:], b[:])
	g.h = load(b[:])
	clear(b[:])
	b[15] = 1
	block.Encrypt(b[:], b[:])
	g.mask = load(b[:])
	if chunk > 0 {
		g.chunkH = pow(g.h, uint64(chunk/BlockSize))
		g.chunkC = g.mask.xor(mul(elem{hi: 8 * uint64(chunk)}, g.h))
	}
	return g, nil
}

// Update hashes blocks, whose length must be a multiple of BlockSize: the
// caller pads the last piece of the AAD and of the ciphertext with zeros,
// as GHASH's input does.
func (g *GHASH) Update(blocks []byte) {
	if len(blocks)%BlockSize != 0 {
		panic("gcm: GHASH.Update of a partial block")
	}
	if len(blocks) == 0 {
		return
	}
	hm, c := g.chunkH, g.chunkC
	if len(blocks) != g.chunk {
		hm = pow(g.h, uint64(len(blocks)/BlockSize))
		c = g.mask.xor(mul(elem{hi: 8 * uint64(len(blocks))}, g.h))
	}
	sealed := g.aead.Seal(g.tag[:0], g.nonce[:], nil, blocks)
	g.s = mul(g.s, hm).xor(load(sealed)).xor(c)
}

// Sum returns GHASH over the blocks given, followed by the length block
// of an AAD of aadLen and a ciphertext of ctLen bytes (SP 800-38D
// Algorithm 4, step 5). It does not change the state.
func (g *GHASH) Sum(aadLen, ctLen uint64) [TagSize]byte {
	return g.sum(aadLen, ctLen).bytes()
}

func (g *GHASH) sum(aadLen, ctLen uint64) elem {
	return g.s.xor(mul(elem{8 * aadLen, 8 * ctLen}, g.h))
}

// Tag returns the GCM tag of the message hashed (Algorithm 4, step 6):
// Sum(aadLen, ctLen) masked with E(K, j0), j0 being the pre-counter block
// (IV || 0^31 || 1 for a 96-bit IV).
func (g *GHASH) Tag(j0 [16]byte, aadLen, ctLen uint64) [TagSize]byte {
	// Encrypt in g's own buffer: j0's would escape through the interface.
	copy(g.tag[:], j0[:])
	g.block.Encrypt(g.tag[:], g.tag[:])
	return g.sum(aadLen, ctLen).xor(load(g.tag[:])).bytes()
}
