package boot_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
)

// op is a flash operation relative to the start of the secondary slot.
type op struct {
	kind     boottest.OpKind
	off, len int64
}

func (o op) String() string { return fmt.Sprintf("%v %#x+%d", o.kind, o.off, o.len) }

func erase(off int64) op      { return op{boottest.OpErase, off, 1024} }
func program(off, n int64) op { return op{boottest.OpProgram, off, n} }
func image(off, n int64) op   { return program(1024+off, n) } // a program into the image, after the header sector
func stagingRig(t *testing.T) *rig {
	r := newRigOn(t, true)
	r.Flash.Reset() // the log starts with the staging
	return r
}

// TestSlotWriterOperations streams images in chunks and checks the exact
// flash operations and the bytes they leave: each sector of the image is
// erased just before the first program into it, the erases in order, one
// program per write of its whole write units, the last partial unit padded
// at Close, the header last.
func TestSlotWriterOperations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		chunks []int
		want   []op
	}{
		{"one write", 2500, []int{2500},
			[]op{erase(0), erase(1024), erase(2048), erase(3072), image(0, 2496), image(2496, 16), program(0, 1024)}},
		{"aligned chunks", 2048, []int{1024, 1024},
			[]op{erase(0), erase(1024), image(0, 1024), erase(2048), image(1024, 1024), program(0, 1024)}},
		{"unaligned chunks", 2500, []int{1000, 1000, 500},
			[]op{erase(0), erase(1024), image(0, 992), erase(2048), image(992, 1008), erase(3072), image(2000, 496), image(2496, 16), program(0, 1024)}},
		{"chunks shorter than a unit", 40, []int{10, 10, 20},
			[]op{erase(0), erase(1024), image(0, 16), image(16, 16), image(32, 16), program(0, 1024)}},
		{"empty image", 0, nil, []op{erase(0), program(0, 1024)}},
		{"closed short of its size", 2500, []int{1000},
			[]op{erase(0), erase(1024), image(0, 992), erase(2048), erase(3072), image(992, 16), program(0, 1024)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagingRig(t)
			w, err := r.boot.OpenStaging(boot.Normal, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			var img []byte
			for i, n := range tc.chunks {
				chunk := bytes.Repeat([]byte{byte(i + 1)}, n)
				img = append(img, chunk...)
				if _, err := w.Write(chunk); err != nil {
					t.Fatalf("write %d: %v", i+1, err)
				}
				clear(chunk) // Write keeps no reference to it
			}
			if err := w.Close([]byte("envelope")); err != nil {
				t.Fatal(err)
			}
			log := r.Flash.Log()
			if len(log) == 0 {
				t.Fatal("no operations")
			}
			base := log[0].Offset
			var got []op
			for _, o := range log {
				got = append(got, op{o.Kind, o.Offset - base, o.Len})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("operations\n got %v\nwant %v", got, tc.want)
			}
			stored := make([]byte, len(img))
			if err := r.Flash.Read(base+1024, stored); err != nil || !bytes.Equal(stored, img) {
				t.Fatalf("image in the slot (%v): % x", err, stored)
			}
		})
	}
}

// TestSlotWriterPowerCut cuts the power at each operation of a stream of
// three chunks: the call that reaches the cut fails, every call after it
// fails too, and the slot reads as empty.
func TestSlotWriterPowerCut(t *testing.T) {
	// Operations: 1 erase header (OpenStaging); write 1: 2 erase, 3
	// program; write 2: 4 erase, 5 program; write 3: 6 erase, 7 program;
	// Close: 8 last unit, 9 header.
	for _, tc := range []struct {
		cut   uint64
		fails int // the call that fails first: writes 1..3, 4 for Close
	}{{2, 1}, {3, 1}, {4, 2}, {5, 2}, {6, 3}, {7, 3}, {8, 4}, {9, 4}} {
		t.Run(fmt.Sprint("cut at ", tc.cut), func(t *testing.T) {
			r := stagingRig(t)
			r.Flash.CutBefore(tc.cut)
			w, err := r.boot.OpenStaging(boot.Normal, 3000)
			if err != nil {
				t.Fatal(err)
			}
			calls := []func() error{
				func() error { _, err := w.Write(make([]byte, 1000)); return err },
				func() error { _, err := w.Write(make([]byte, 1000)); return err },
				func() error { _, err := w.Write(make([]byte, 1000)); return err },
				func() error { return w.Close([]byte("envelope")) },
			}
			for i, call := range calls {
				err := call()
				if i+1 < tc.fails && err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
				if i+1 >= tc.fails && !errors.Is(err, boottest.ErrPowerCut) {
					t.Fatalf("call %d: %v, want ErrPowerCut", i+1, err)
				}
			}
			if ops := r.Flash.Ops(); ops != tc.cut {
				t.Fatalf("%d operations counted, the cut is at %d", ops, tc.cut)
			}
			r.Flash.Reset()
			if _, err := r.boot.VerifyStaged(t.Context(), boot.Normal); !errors.Is(err, boot.ErrEmptySlot) {
				t.Fatalf("slot after the cut: %v, want ErrEmptySlot", err)
			}
		})
	}
}
