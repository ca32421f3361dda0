package gcm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// The test cases of D. McGrew and J. Viega, "The Galois/Counter Mode of
// Operation (GCM)", revised submission to NIST, 2005, Appendix B (the
// AES-128 ones, test cases 1 to 6), which NIST SP 800-38D refers to: the
// key K, plaintext P, additional data A, IV, and the values the
// appendix lists for H, the ciphertext C, GHASH(H, A, C) and the tag T.
// Typed in from the appendix; the standard library's AES-GCM agrees on C
// and T (TestVectorsAgreeWithStdlib).
var mcGrewViega = []struct {
	name                      string
	k, p, a, iv, h, c, gh, tg string
}{
	{name: "test case 1", k: "00000000000000000000000000000000", iv: "000000000000000000000000",
		h: "66e94bd4ef8a2c3b884cfa59ca342b2e", gh: "00000000000000000000000000000000", tg: "58e2fccefa7e3061367f1d57a4e7455a"},
	{name: "test case 2", k: "00000000000000000000000000000000", p: "00000000000000000000000000000000", iv: "000000000000000000000000",
		h: "66e94bd4ef8a2c3b884cfa59ca342b2e", c: "0388dace60b6a392f328c2b971b2fe78",
		gh: "f38cbb1ad69223dcc3457ae5b6b0f885", tg: "ab6e47d42cec13bdf53a67b21257bddf"},
	{name: "test case 3", k: "feffe9928665731c6d6a8f9467308308",
		p: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		iv: "cafebabefacedbaddecaf888", h: "b83b533708bf535d0aa6e52980d53b78",
		c: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
			"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
		gh: "7f1b32b81b820d02614f8895ac1d4eac", tg: "4d5c2af327cd64a62cf35abd2ba6fab4"},
	{name: "test case 4", k: "feffe9928665731c6d6a8f9467308308",
		p: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		a: "feedfacedeadbeeffeedfacedeadbeefabaddad2", iv: "cafebabefacedbaddecaf888", h: "b83b533708bf535d0aa6e52980d53b78",
		c: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
			"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		gh: "698e57f70e6ecc7fd9463b7260a9ae5f", tg: "5bc94fbc3221a5db94fae95ae7121a47"},
	{name: "test case 5 (64-bit IV)", k: "feffe9928665731c6d6a8f9467308308",
		p: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		a: "feedfacedeadbeeffeedfacedeadbeefabaddad2", iv: "cafebabefacedbad", h: "b83b533708bf535d0aa6e52980d53b78",
		c: "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423" +
			"73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
		gh: "df586bb4c249b92cb6922877e444d37b", tg: "3612d2e79e3b0785561be14aaca2fccb"},
	{name: "test case 6 (480-bit IV)", k: "feffe9928665731c6d6a8f9467308308",
		p: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
			"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		a: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		iv: "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728" +
			"c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
		h: "b83b533708bf535d0aa6e52980d53b78",
		c: "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7" +
			"01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
		gh: "1c5afe9760d3932f3c9a878aac3dc3de", tg: "619cc5aefffe0bfa462af43c1699d050"},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pad extends b with zeros to a whole number of blocks.
func pad(b []byte) []byte {
	return append(bytes.Clone(b), make([]byte, (BlockSize-len(b)%BlockSize)%BlockSize)...)
}

// j0 is the pre-counter block of SP 800-38D Algorithm 4 step 2: IV || 0^31
// || 1 for a 96-bit IV, else GHASH of the IV padded, with its length.
func j0(t *testing.T, block cipher.Block, iv []byte) [16]byte {
	t.Helper()
	var j [16]byte
	if len(iv) == 12 {
		copy(j[:], iv)
		j[15] = 1
		return j
	}
	g, err := New(block, 0)
	if err != nil {
		t.Fatal(err)
	}
	g.Update(pad(iv))
	return g.Sum(0, uint64(len(iv)))
}

// TestMcGrewViega computes, for each test case, H, GHASH(H, A, C) with A
// and C given whole and then in pieces of one block, and the tag.
func TestMcGrewViega(t *testing.T) {
	t.Parallel()
	for _, tc := range mcGrewViega {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			block, err := aes.NewCipher(mustHex(t, tc.k))
			if err != nil {
				t.Fatal(err)
			}
			a, c := mustHex(t, tc.a), mustHex(t, tc.c)
			for _, piece := range []int{0, BlockSize} {
				g, err := New(block, 0)
				if err != nil {
					t.Fatal(err)
				}
				if got := g.h.bytes(); hex.EncodeToString(got[:]) != tc.h {
					t.Fatalf("H = %x, want %s", got, tc.h)
				}
				for _, part := range [][]byte{pad(a), pad(c)} {
					for len(part) > 0 {
						n := len(part)
						if piece > 0 {
							n = min(piece, n)
						}
						g.Update(part[:n])
						part = part[n:]
					}
				}
				sum := g.Sum(uint64(len(a)), uint64(len(c)))
				if hex.EncodeToString(sum[:]) != tc.gh {
					t.Errorf("pieces of %d: GHASH = %x, want %s", piece, sum, tc.gh)
				}
				tag := g.Tag(j0(t, block, mustHex(t, tc.iv)), uint64(len(a)), uint64(len(c)))
				if hex.EncodeToString(tag[:]) != tc.tg {
					t.Errorf("pieces of %d: tag = %x, want %s", piece, tag, tc.tg)
				}
			}
		})
	}
}

// TestVectorsAgreeWithStdlib checks the typed-in C and T against the
// standard library's AES-GCM, so that a typing mistake cannot hide.
func TestVectorsAgreeWithStdlib(t *testing.T) {
	t.Parallel()
	for _, tc := range mcGrewViega {
		block, err := aes.NewCipher(mustHex(t, tc.k))
		if err != nil {
			t.Fatal(err)
		}
		iv := mustHex(t, tc.iv)
		aead, err := cipher.NewGCMWithNonceSize(block, len(iv))
		if err != nil {
			t.Fatal(err)
		}
		got := aead.Seal(nil, iv, mustHex(t, tc.p), mustHex(t, tc.a))
		if want := tc.c + tc.tg; hex.EncodeToString(got) != want {
			t.Errorf("%s: stdlib C||T = %x, typed %s", tc.name, got, want)
		}
	}
}

// TestChunkedStreamAgreesWithStdlib hashes seeded messages whose length
// crosses the precomputed chunk size, in pieces of every awkward size,
// and checks the tag against the standard library's.
func TestChunkedStreamAgreesWithStdlib(t *testing.T) {
	t.Parallel()
	const chunk = 4 * BlockSize
	rng := rand.New(rand.NewPCG(1, 2))
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 12)
	for _, size := range []int{0, 1, 15, 16, 17, chunk - 1, chunk, chunk + 1, 5*chunk + 7} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		aad := msg[:size/3]
		ct := aead.Seal(nil, iv, msg, aad)
		ct, want := ct[:size], ct[size:]
		for _, blocks := range []int{1, 3, 4, 5} {
			g, err := New(block, chunk)
			if err != nil {
				t.Fatal(err)
			}
			g.Update(pad(aad))
			padded := pad(ct)
			for len(padded) > 0 {
				n := min(blocks*BlockSize, len(padded))
				g.Update(padded[:n])
				padded = padded[n:]
			}
			var j [16]byte
			copy(j[:], iv)
			j[15] = 1
			if tag := g.Tag(j, uint64(len(aad)), uint64(size)); !bytes.Equal(tag[:], want) {
				t.Errorf("%d bytes in pieces of %d blocks: tag %x, want %x", size, blocks, tag, want)
			}
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{-16, 1, 17} {
		if _, err := New(block, chunk); err == nil {
			t.Errorf("chunk %d accepted", chunk)
		}
	}
}

func TestUpdateRefusesPartialBlocks(t *testing.T) {
	t.Parallel()
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(block, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Update of 15 bytes did not panic")
		}
	}()
	g.Update(make([]byte, 15))
}
