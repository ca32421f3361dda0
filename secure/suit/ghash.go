package suit

import (
	"crypto/cipher"
	"encoding/binary"
)

// gcmTagSize is the tag size of A128GCM.
const gcmTagSize = 16

// gfElem is an element of GF(2^128) in GCM's bit order: hi holds bytes
// 0-7 of the block big-endian, lo bytes 8-15.
type gfElem struct{ hi, lo uint64 }

func gfLoad(b []byte) gfElem {
	return gfElem{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (x gfElem) put(b []byte) {
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:16], x.lo)
}

func (x gfElem) xor(y gfElem) gfElem { return gfElem{x.hi ^ y.hi, x.lo ^ y.lo} }

// gfMul multiplies in GCM's field (NIST SP 800-38D, Algorithm 1), with no
// branch on the operands, which derive from the key.
func gfMul(x, y gfElem) gfElem {
	var z gfElem
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

// gfPow returns x^n.
func gfPow(x gfElem, n uint64) gfElem {
	r := gfElem{hi: 1 << 63} // the field's one
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r = gfMul(r, x)
		}
		x = gfMul(x, x)
	}
	return r
}

// ghashStream computes GHASH (SP 800-38D §6.4) over a stream given in
// pieces that are each a whole number of blocks, at the speed of the
// standard library's hardware GHASH, in constant memory.
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
// piece. Pieces of decryptChunk bytes reuse a precomputed H^m and L·H.
type ghashStream struct {
	aead   cipher.AEAD // keyed with the CEK; used only to hash
	nonce  [12]byte    // all zero: the J0 that mask undoes
	mask   gfElem      // E(K, nonce || 0^31 || 1)
	h      gfElem      // E(K, 0^128)
	chunkH gfElem      // H^(decryptChunk/16)
	chunkC gfElem      // mask ⊕ L(chunk)·H
	s      gfElem      // S = X·H
	tag    [gcmTagSize]byte
}

func newGHASHStream(block cipher.Block, aead cipher.AEAD) *ghashStream {
	g := &ghashStream{aead: aead}
	var b [16]byte
	block.Encrypt(b[:], b[:])
	g.h = gfLoad(b[:])
	clear(b[:])
	b[15] = 1
	block.Encrypt(b[:], b[:])
	g.mask = gfLoad(b[:])
	g.chunkH = gfPow(g.h, decryptChunk/16)
	g.chunkC = g.mask.xor(gfMul(gfElem{hi: 8 * decryptChunk}, g.h))
	return g
}

// update hashes blocks, whose length must be a multiple of 16.
func (g *ghashStream) update(blocks []byte) {
	if len(blocks) == 0 {
		return
	}
	hm, c := g.chunkH, g.chunkC
	if len(blocks) != decryptChunk {
		hm = gfPow(g.h, uint64(len(blocks)/16))
		c = g.mask.xor(gfMul(gfElem{hi: 8 * uint64(len(blocks))}, g.h))
	}
	sealed := g.aead.Seal(g.tag[:0], g.nonce[:], nil, blocks)
	g.s = gfMul(g.s, hm).xor(gfLoad(sealed)).xor(c)
}

// sum returns GHASH over all blocks given followed by the length block of
// an AAD of aadLen and a ciphertext of ctLen bytes.
func (g *ghashStream) sum(aadLen, ctLen uint64) gfElem {
	return g.s.xor(gfMul(gfElem{8 * aadLen, 8 * ctLen}, g.h))
}
