package fwu

import (
	"errors"
	"hash"
	"io"
	"sync"

	"github.com/teeup/teeup/ipc"
)

// pipelineDepth is how many buffers of a payload's bytes are in hand at
// once: one being filled by the WriteChunk in progress, one being hashed,
// one being programmed, and one to spare for the moments one stage falls
// behind (with three, the 64 MiB update was 10% slower).
const pipelineDepth = 4

// pipelineBuffer is the size of each buffer: the largest chunk a
// WriteChunk carries over ipc (the one chunk-size constant of the tree).
const pipelineBuffer = ipc.MaxChunk

// errPipelineClosed is a write after Close.
var errPipelineClosed = errors.New("fwu: payload stream closed")

// pipeline takes a payload's bytes (the plaintext, for an encrypted one)
// and hashes them, then programs them into the staging slot, in two
// goroutines of its own, behind the WriteChunk calls that bring them: the
// secure world takes the next chunk from the normal world, and decrypts
// it, while the last one is hashed and the one before it programmed, so
// that the hash, the longest of the three, never waits for the others.
// Write copies the bytes into one of pipelineDepth buffers of its own, so
// the caller may reuse them at once; a buffer comes back once programmed.
//
// A failure of the slot is returned by the next Write or by Close; bytes
// Write accepted before it are lost with the whole payload, which then
// cannot be finished. Close waits until every byte accepted is hashed and
// programmed: only then is the hash the digest of the slot's bytes.
type pipeline struct {
	free, full chan []byte
	done       chan struct{}

	// lent is the buffer Lend gave out, until Write takes it back.
	lent []byte

	mu     sync.Mutex
	err    error // the first failure of the slot
	closed bool
}

// newPipeline starts the goroutines that hash into h and then program
// into w each chunk handed to it.
func newPipeline(h hash.Hash, w io.Writer) *pipeline {
	pl := &pipeline{
		free: make(chan []byte, pipelineDepth),
		full: make(chan []byte, pipelineDepth),
		done: make(chan struct{}),
	}
	for range pipelineDepth {
		pl.free <- make([]byte, pipelineBuffer)
	}
	hashed := make(chan []byte, pipelineDepth)
	go func() {
		defer close(hashed)
		for b := range pl.full {
			h.Write(b)
			hashed <- b
		}
	}()
	go func() {
		defer close(pl.done)
		for b := range hashed {
			if pl.failed() == nil {
				if _, err := w.Write(b); err != nil {
					pl.fail(err)
				}
			}
			pl.free <- b[:cap(b)]
		}
	}()
	return pl
}

func (pl *pipeline) failed() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.err
}

func (pl *pipeline) fail(err error) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.err == nil {
		pl.err = err
	}
}

// Lend implements suit.Lender: it returns a free buffer of n bytes for
// the caller to fill with the next bytes and pass to Write, which then
// takes them without a copy; nil when it cannot. It may wait until a
// buffer is free.
func (pl *pipeline) Lend(n int) []byte {
	if pl.closed || n > pipelineBuffer || pl.failed() != nil {
		return nil
	}
	if pl.lent == nil {
		pl.lent = <-pl.free
	}
	return pl.lent[:n]
}

// Write hands p on to be hashed and programmed.
func (pl *pipeline) Write(p []byte) (int, error) {
	if pl.closed {
		return 0, errPipelineClosed
	}
	if err := pl.failed(); err != nil {
		return 0, err
	}
	if lent := pl.lent; lent != nil {
		pl.lent = nil
		if len(p) > 0 && &p[0] == &lent[0] {
			pl.full <- p // the bytes are in the buffer lent for them
			return len(p), nil
		}
		pl.free <- lent
	}
	for n := 0; n < len(p); {
		b := <-pl.free
		k := copy(b, p[n:])
		pl.full <- b[:k]
		n += k
	}
	return len(p), nil
}

// Close waits until everything written is hashed and programmed, and
// returns the first failure, if any. It may be called more than once.
func (pl *pipeline) Close() error {
	if !pl.closed {
		pl.closed = true
		pl.lent = nil
		close(pl.full)
	}
	<-pl.done
	return pl.failed()
}
