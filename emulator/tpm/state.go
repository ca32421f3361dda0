package tpm

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// stateFileName holds the NV image in the directory given to Open.
const stateFileName = "tpm-nv.state"

// stateMagic starts every state file. The trailing byte is the format
// version; a new layout gets a new version, never a reinterpretation.
const stateMagic = "TEEUPNV\x01"

// encodeState frames an NV image as
//
//	magic[8] | len(image) uint32 big-endian | SHA-256(magic | len | image)[32] | image
//
// The checksum catches truncation and bit rot, not an attacker.
func encodeState(image []byte) []byte {
	out := make([]byte, stateHeaderSize, stateHeaderSize+len(image))
	copy(out, stateMagic)
	binary.BigEndian.PutUint32(out[len(stateMagic):], uint32(len(image)))
	out = append(out, image...)
	sum := stateSum(out[:len(stateMagic)+4], image)
	copy(out[len(stateMagic)+4:], sum[:])
	return out
}

// decodeState returns the NV image in b, which must be one complete state
// file for an image of exactly nvSize bytes.
func decodeState(b []byte) ([]byte, error) {
	if len(b) != stateFileSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrStateCorrupt, len(b), stateFileSize)
	}
	if !bytes.Equal(b[:len(stateMagic)], []byte(stateMagic)) {
		return nil, fmt.Errorf("%w: bad magic %q", ErrStateCorrupt, b[:len(stateMagic)])
	}
	if n := binary.BigEndian.Uint32(b[len(stateMagic):]); n != nvSize {
		return nil, fmt.Errorf("%w: image of %d bytes, want %d", ErrStateCorrupt, n, nvSize)
	}
	image := b[stateHeaderSize:]
	sum := stateSum(b[:len(stateMagic)+4], image)
	if subtle.ConstantTimeCompare(sum[:], b[len(stateMagic)+4:stateHeaderSize]) != 1 {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrStateCorrupt)
	}
	return bytes.Clone(image), nil
}

func stateSum(prefix, image []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(prefix)
	h.Write(image)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// readState returns the NV image saved in dir, or an error wrapping
// fs.ErrNotExist when there is none.
func readState(dir string) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, stateFileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(stateFileSize)+1))
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return decodeState(b)
}

// writeState replaces the state file in dir with image so that a crash at
// any point leaves either the old file or the new one.
func writeState(dir string, image []byte) (err error) {
	tmp, err := os.CreateTemp(dir, stateFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(encodeState(image)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFileName)); err != nil {
		return fmt.Errorf("rename state: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	defer d.Close()
	// Some platforms cannot fsync a directory; the rename is still atomic there.
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync state dir: %w", err)
	}
	return nil
}
