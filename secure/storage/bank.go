package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Flash is the part of the device's flash the store needs: NOR semantics
// (erase to 0xFF, a program only clears bits).
type Flash interface {
	Read(off int64, p []byte) error
	Program(off int64, data []byte) error
	EraseSector(off int64) error
}

// Region is where the store lives in flash: two banks of BankSectors
// sectors each, bank 1 right after bank 0.
type Region struct {
	Off         int64
	BankSectors int
	SectorSize  int
	WriteAlign  int
}

func (r Region) bankSize() int          { return r.BankSectors * r.SectorSize }
func (r Region) bankOff(bank int) int64 { return r.Off + int64(bank*r.bankSize()) }

// A bank holds one record, written in a single program after the sectors
// it needs are erased:
//
//	magic      8  "teeupSS" and a format version
//	generation 8  one more than the record it replaces
//	sealedLen  4  the root key sealed by the TPM
//	cipherLen  4  the state, AES-256-GCM under the root key (tag included)
//	sealed     sealedLen
//	nonce      12
//	ciphertext cipherLen
//	checksum   32 SHA-256 of everything before it
//
// The checksum tells a torn or interrupted write from a complete record
// (the bank is then ignored); the GCM tag, whose additional data is the
// header and the sealed key, tells a complete record from a forged one
// (the store then refuses to open: falling back to the older bank would
// roll back what the newer one recorded).
const (
	headerSize = 24
	nonceSize  = 12
	sumSize    = sha256.Size
)

var magic = [8]byte{'t', 'e', 'e', 'u', 'p', 'S', 'S', 1}

type bankRecord struct {
	generation uint64
	sealed     []byte
	nonce      []byte
	ciphertext []byte
}

func (b *bankRecord) header() []byte {
	h := append(magic[:0:0], magic[:]...)
	h = binary.BigEndian.AppendUint64(h, b.generation)
	h = binary.BigEndian.AppendUint32(h, uint32(len(b.sealed)))
	return binary.BigEndian.AppendUint32(h, uint32(len(b.ciphertext)))
}

// additionalData binds the ciphertext to its generation and sealed key.
func (b *bankRecord) additionalData() []byte { return append(b.header(), b.sealed...) }

// encode lays the record out, padded with 0xFF to the write alignment.
func (b *bankRecord) encode(align int) []byte {
	out := append(b.header(), b.sealed...)
	out = append(append(out, b.nonce...), b.ciphertext...)
	sum := sha256.Sum256(out)
	out = append(out, sum[:]...)
	for len(out)%align != 0 {
		out = append(out, 0xff)
	}
	return out
}

// readBank returns the bank's record, or nil when the bank holds no
// complete record (erased, torn, or never written).
func (r Region) readBank(f Flash, bank int) (*bankRecord, error) {
	off := r.bankOff(bank)
	var h [headerSize]byte
	if err := f.Read(off, h[:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(h[:8], magic[:]) {
		return nil, nil
	}
	sealedLen := int(binary.BigEndian.Uint32(h[16:]))
	cipherLen := int(binary.BigEndian.Uint32(h[20:]))
	total := headerSize + sealedLen + nonceSize + cipherLen + sumSize
	if sealedLen > r.bankSize() || cipherLen > r.bankSize() || total > r.bankSize() {
		return nil, nil // a torn header can claim any length
	}
	raw := make([]byte, total)
	if err := f.Read(off, raw); err != nil {
		return nil, err
	}
	body := raw[:total-sumSize]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], raw[total-sumSize:]) {
		return nil, nil
	}
	rest := body[headerSize:]
	return &bankRecord{
		generation: binary.BigEndian.Uint64(h[8:]),
		sealed:     rest[:sealedLen],
		nonce:      rest[sealedLen : sealedLen+nonceSize],
		ciphertext: rest[sealedLen+nonceSize:],
	}, nil
}

// writeBank erases the sectors rec needs in bank and programs it.
func (r Region) writeBank(f Flash, bank int, rec *bankRecord) error {
	raw := rec.encode(r.WriteAlign)
	if len(raw) > r.bankSize() {
		return fmt.Errorf("%w: %d bytes, a bank holds %d", ErrFull, len(raw), r.bankSize())
	}
	off := r.bankOff(bank)
	for s := 0; s*r.SectorSize < len(raw); s++ {
		if err := f.EraseSector(off + int64(s*r.SectorSize)); err != nil {
			return err
		}
	}
	return f.Program(off, raw)
}
