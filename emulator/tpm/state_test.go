package tpm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testImage() []byte {
	image := make([]byte, nvSize)
	for i := range image {
		image[i] = byte(i * 7)
	}
	return image
}

func TestStateRoundTrip(t *testing.T) {
	image := testImage()
	enc := encodeState(image)
	if len(enc) != stateFileSize {
		t.Fatalf("encoded %d bytes, want %d", len(enc), stateFileSize)
	}
	got, err := decodeState(enc)
	if err != nil {
		t.Fatalf("decodeState: %v", err)
	}
	if !bytes.Equal(got, image) {
		t.Fatal("image changed in the round trip")
	}
}

// TestStateGoldenHeader pins the layout: magic, big-endian length, checksum.
func TestStateGoldenHeader(t *testing.T) {
	enc := encodeState(make([]byte, nvSize))
	want := []byte("TEEUPNV\x01" + "\x00\x00\x40\x00") // magic v1 | 16384
	if !bytes.Equal(enc[:12], want) {
		t.Fatalf("header %x, want %x", enc[:12], want)
	}
}

func TestStatePrefixesFail(t *testing.T) {
	enc := encodeState(testImage())
	for n := range len(enc) {
		if _, err := decodeState(enc[:n]); !errors.Is(err, ErrStateCorrupt) {
			t.Fatalf("prefix of %d bytes: %v, want ErrStateCorrupt", n, err)
		}
	}
}

func TestWriteStateReplaces(t *testing.T) {
	dir := t.TempDir()
	for _, image := range [][]byte{make([]byte, nvSize), testImage()} {
		if err := writeState(dir, image); err != nil {
			t.Fatalf("writeState: %v", err)
		}
		got, err := readState(dir)
		if err != nil {
			t.Fatalf("readState: %v", err)
		}
		if !bytes.Equal(got, image) {
			t.Fatal("read back a different image")
		}
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != stateFileName {
		t.Fatalf("dir holds %v, want only %s", entries, stateFileName)
	}
}

func TestReadStateBounded(t *testing.T) {
	dir := t.TempDir()
	big := append(encodeState(testImage()), make([]byte, 1<<20)...)
	if err := os.WriteFile(filepath.Join(dir, stateFileName), big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readState(dir); !errors.Is(err, ErrStateCorrupt) {
		t.Fatalf("readState of an oversized file: %v, want ErrStateCorrupt", err)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(testImage()))
	f.Add(encodeState(make([]byte, nvSize)))
	f.Add([]byte(stateMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		image, err := decodeState(b)
		if err != nil {
			if !errors.Is(err, ErrStateCorrupt) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Anything accepted re-encodes to the same bytes.
		if !bytes.Equal(encodeState(image), b) {
			t.Fatal("accepted input does not re-encode byte-identical")
		}
	})
}
