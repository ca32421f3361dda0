package boot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The first sector of a slot:
//
//	0   8  magic "TEEUPIMG"
//	8   4  envelope length (big endian)
//	12  8  image length
//	20 32  SHA-256 of bytes 0..20 and the envelope
//	52  …  the SUIT envelope
//
// The checksum only tells a written header from an erased, torn or stale
// one; the envelope's signature is what makes the image trusted.
const (
	slotMagic     = "TEEUPIMG"
	slotHeaderLen = 52
)

// ErrEmptySlot is a slot with no valid header: erased, torn or garbage.
var ErrEmptySlot = errors.New("boot: slot holds no image")

// slotHeader is a decoded slot header.
type slotHeader struct {
	Envelope []byte
	ImageLen int
}

func encodeSlotHeader(l Layout, env []byte, imageLen int) ([]byte, error) {
	if len(env) > l.SectorSize-slotHeaderLen {
		return nil, fmt.Errorf("boot: envelope of %d bytes does not fit a %d-byte header sector", len(env), l.SectorSize)
	}
	if imageLen > l.MaxImage() {
		return nil, fmt.Errorf("boot: image of %d bytes exceeds the slot's %d", imageLen, l.MaxImage())
	}
	sector := bytes.Repeat([]byte{0xff}, l.SectorSize)
	copy(sector, slotMagic)
	binary.BigEndian.PutUint32(sector[8:], uint32(len(env)))
	binary.BigEndian.PutUint64(sector[12:], uint64(imageLen))
	copy(sector[slotHeaderLen:], env)
	sum := headerSum(sector[:20], env)
	copy(sector[20:52], sum[:])
	return sector, nil
}

func headerSum(fixed, env []byte) [32]byte {
	h := sha256.New()
	h.Write(fixed)
	h.Write(env)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func (d *Device) readSlotHeader(c Component, secondary bool) (*slotHeader, error) {
	sector := make([]byte, d.layout.SectorSize)
	if err := d.flash.Read(d.layout.slotOff(c, secondary), sector); err != nil {
		return nil, err
	}
	if string(sector[:8]) != slotMagic {
		return nil, ErrEmptySlot
	}
	envLen := binary.BigEndian.Uint32(sector[8:])
	imgLen := binary.BigEndian.Uint64(sector[12:])
	if int(envLen) > d.layout.SectorSize-slotHeaderLen || imgLen > uint64(d.layout.MaxImage()) {
		return nil, ErrEmptySlot
	}
	env := sector[slotHeaderLen : slotHeaderLen+int(envLen)]
	sum := headerSum(sector[:20], env)
	if !bytes.Equal(sum[:], sector[20:52]) {
		return nil, ErrEmptySlot
	}
	return &slotHeader{Envelope: bytes.Clone(env), ImageLen: int(imgLen)}, nil
}

// imageReader reads the image of a slot, straight from the mapping when
// the flash is memory-mapped.
func (d *Device) imageReader(c Component, secondary bool, n int) io.Reader {
	off := d.layout.slotOff(c, secondary) + int64(d.layout.SectorSize)
	if m, ok := d.flash.(MappedFlash); ok {
		if b, err := m.Mapped(off, int64(n)); err == nil {
			return bytes.NewReader(b)
		}
	}
	return io.NewSectionReader(readerAt{d.flash}, off, int64(n))
}

type readerAt struct{ f Flash }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if err := r.f.Read(off, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeSlot erases a slot and writes a header and an image into it.
func (d *Device) writeSlot(c Component, secondary bool, env, image []byte) error {
	header, err := encodeSlotHeader(d.layout, env, len(image))
	if err != nil {
		return err
	}
	base := d.layout.slotOff(c, secondary)
	ss := d.layout.SectorSize
	for i := 0; i < d.layout.SlotSectors; i++ {
		if err := d.flash.EraseSector(base + int64(i*ss)); err != nil {
			return err
		}
	}
	if err := d.flash.Program(base, header); err != nil {
		return err
	}
	for off := 0; off < len(image); off += ss {
		chunk := image[off:min(off+ss, len(image))]
		if pad := len(chunk) % d.layout.WriteAlign; pad != 0 {
			chunk = append(bytes.Clone(chunk), bytes.Repeat([]byte{0xff}, d.layout.WriteAlign-pad)...)
		}
		if err := d.flash.Program(base+int64(ss+off), chunk); err != nil {
			return err
		}
	}
	return nil
}
