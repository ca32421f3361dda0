package suit

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
)

// Digest is a SUIT_Digest: [algorithm-id, digest-bytes].
type Digest struct {
	_     struct{} `cbor:",toarray"`
	Alg   int64
	Bytes []byte
}

// NewHash returns a hash for a SUIT digest algorithm, or ErrUnsupported.
func NewHash(alg int64) (hash.Hash, error) {
	switch alg {
	case AlgSHA256:
		return sha256.New(), nil
	case AlgSHA384:
		return sha512.New384(), nil
	case AlgSHA512:
		return sha512.New(), nil
	}
	return nil, unsupportedAs(ErrUnsupportedAlgorithm, "digest algorithm %d", alg)
}

// DigestOf computes a SUIT_Digest of data with alg.
func DigestOf(alg int64, data []byte) (Digest, error) {
	h, err := NewHash(alg)
	if err != nil {
		return Digest{}, err
	}
	h.Write(data)
	return Digest{Alg: alg, Bytes: h.Sum(nil)}, nil
}

// MatchesBstr reports in constant time whether the bstr encoding of data
// hashes to d, without copying data.
func (d Digest) MatchesBstr(data []byte) (bool, error) {
	h, err := NewHash(d.Alg)
	if err != nil {
		return false, err
	}
	h.Write(bstrHead(len(data)))
	h.Write(data)
	return d.Equal(h.Sum(nil)), nil
}

// Matches reports in constant time whether data hashes to d.
func (d Digest) Matches(data []byte) (bool, error) {
	got, err := DigestOf(d.Alg, data)
	if err != nil {
		return false, err
	}
	return d.Equal(got.Bytes), nil
}

// Equal compares digest bytes in constant time.
func (d Digest) Equal(sum []byte) bool {
	return len(sum) == len(d.Bytes) && subtle.ConstantTimeCompare(sum, d.Bytes) == 1
}

func decodeDigest(data []byte) (Digest, error) {
	r := newReader(data)
	d, err := readDigest(r)
	if err != nil {
		return Digest{}, err
	}
	return d, r.done()
}

// readDigest reads a SUIT_Digest [alg, bytes] whose length fits alg.
func readDigest(r *reader) (Digest, error) {
	var d Digest
	n, err := r.array(2)
	if err != nil {
		return d, err
	}
	if n != 2 {
		return d, r.errf("digest of %d elements", n)
	}
	if d.Alg, err = r.int(); err != nil {
		return d, err
	}
	if d.Bytes, err = r.bytes(); err != nil {
		return d, err
	}
	h, err := NewHash(d.Alg)
	if err != nil {
		return Digest{}, err
	}
	if len(d.Bytes) != h.Size() {
		return Digest{}, malformed("digest of %d bytes for algorithm %d", len(d.Bytes), d.Alg)
	}
	return d, nil
}

// Encode returns the deterministic CBOR encoding of the digest.
func (d Digest) Encode() []byte { return mustMarshal(d) }
