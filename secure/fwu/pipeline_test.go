package fwu

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

// slotStub is the staging slot as the pipeline sees it: it keeps what it
// is given, and fails from its nth write on when failAt is set.
type slotStub struct {
	got    bytes.Buffer
	writes int
	failAt int
}

var errSlot = errors.New("slot: power cut")

func (s *slotStub) Write(p []byte) (int, error) {
	s.writes++
	if s.failAt > 0 && s.writes >= s.failAt {
		return 0, errSlot
	}
	return s.got.Write(p)
}

// TestPipeline streams bytes through a pipeline the two ways a chunk can
// arrive: copied by Write, and filled in place in a buffer Lend gave out.
// The slot gets every byte in order, the hash is theirs, and a lent
// buffer that is not used is taken back.
func TestPipeline(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 3*pipelineBuffer/16+5)
	h, slot := sha256.New(), &slotStub{}
	pl := newPipeline(h, slot)
	for off, k := 0, 0; off < len(payload); k++ {
		n := min(pipelineBuffer-k, len(payload)-off)
		chunk := payload[off : off+n]
		switch k % 3 {
		case 0: // copied
			if _, err := pl.Write(chunk); err != nil {
				t.Fatal(err)
			}
		case 1: // in place
			b := pl.Lend(n)
			copy(b, chunk)
			if _, err := pl.Write(b); err != nil {
				t.Fatal(err)
			}
		case 2: // lent, then the bytes come from elsewhere
			pl.Lend(n)
			if _, err := pl.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		off += n
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(slot.got.Bytes(), payload) {
		t.Fatalf("the slot got %d bytes, not the payload's %d", slot.got.Len(), len(payload))
	}
	if want := sha256.Sum256(payload); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the hash is not the payload's")
	}
	if len(pl.free) != pipelineDepth {
		t.Fatalf("%d of %d buffers came back", len(pl.free), pipelineDepth)
	}
	if _, err := pl.Write([]byte{1}); !errors.Is(err, errPipelineClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

// TestPipelineSlotFailure: a failure of the slot behind the stream comes
// back from a later Write or from Close, and nothing after it reaches the
// slot.
func TestPipelineSlotFailure(t *testing.T) {
	slot := &slotStub{failAt: 2}
	pl := newPipeline(sha256.New(), slot)
	chunk := make([]byte, pipelineBuffer)
	var werr error
	for range 8 {
		if _, werr = pl.Write(chunk); werr != nil {
			break
		}
	}
	cerr := pl.Close()
	if !errors.Is(cerr, errSlot) || (werr != nil && !errors.Is(werr, errSlot)) {
		t.Fatalf("Write: %v, Close: %v; want the slot's failure", werr, cerr)
	}
	if slot.writes != 2 || slot.got.Len() != pipelineBuffer {
		t.Fatalf("the slot saw %d writes, %d bytes after its failure", slot.writes, slot.got.Len())
	}
	if b := pl.Lend(16); b != nil {
		t.Fatal("a failed pipeline lends a buffer")
	}
}
