package payload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/fetch"
)

// Writer writes payloads into the secure world. Its fields are set
// before use; a Writer is not safe for concurrent use (the secure world
// takes one install set at a time anyway).
type Writer struct {
	SW *ipc.Client
	// Fetch downloads the URIs that Local does not hold; nil: only local
	// files.
	Fetch *fetch.Downloader
	// Local maps payload URIs to files the normal world already has (an
	// update from removable media); other URIs are downloaded.
	Local map[string]string
	// Progress, when set, receives one line per step.
	Progress func(string)
}

func (w *Writer) say(format string, args ...any) {
	if w.Progress != nil {
		w.Progress(fmt.Sprintf(format, args...))
	}
}

// Write streams payload p of set into the secure world and finishes it:
// the secure world has checked its digest when Write returns nil. ctx
// stops a download and stops between chunks, never in the middle of a call to the secure world,
// which would break the channel. On error the caller cancels the set
// (Cancel).
func (w *Writer) Write(ctx context.Context, set uint64, p ipc.PayloadRequest) error {
	if err := w.stream(ctx, set, p); err != nil {
		return fmt.Errorf("payload %s: %w", p.URI, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.SW.Finish(context.WithoutCancel(ctx), set, p.Index); err != nil {
		return fmt.Errorf("payload %s: %w", p.URI, err)
	}
	w.say("payload %s: %d bytes written, digest verified by the secure world", p.URI, p.Size)
	return nil
}

// Cancel asks the secure world to cancel set (0: whichever is in
// progress) after an update failed with cause, and returns cause, joined
// with the cancel's own failure (ErrCancelFailed) if it failed too. The
// call is made even when ctx has ended: it is what leaves the secure
// world idle for the next update.
func (w *Writer) Cancel(ctx context.Context, set uint64, cause error) error {
	if err := w.SW.Cancel(context.WithoutCancel(ctx), set); err != nil {
		return errors.Join(cause, fmt.Errorf("%w: %w", ErrCancelFailed, err))
	}
	w.say("update cancelled: the secure world is ready for the next one")
	return cause
}

// ErrCancelFailed is joined to an update's error when the secure world
// did not confirm the cancel that followed it.
var ErrCancelFailed = errors.New("payload: cancel failed")

// stream copies one payload to the secure world in chunks; the next chunk
// is sent while the secure world handles the last.
func (w *Writer) stream(ctx context.Context, set uint64, p ipc.PayloadRequest) error {
	var chunks iter.Seq2[uint64, ipc.Chunk]
	var fetched error // the download's, once its chunks are all sent
	switch path, local := w.Local[p.URI]; {
	case local:
		f, err := openPayload(path, p.Size)
		if err != nil {
			return err
		}
		defer f.Close()
		chunks = fileChunks(f, p.Size, w.SW.MaxChunk())
	case w.Fetch != nil:
		chunks = w.download(ctx, p, &fetched)
	default:
		return fmt.Errorf("%w: no downloader and no local file for %s", ErrNoSource, p.URI)
	}
	// The chunks stop early when the secure world refused one or the
	// channel failed, and WriteChunks says why; or when ctx ended, between
	// two chunks, never in the middle of one.
	var stopped error
	if err := w.SW.WriteChunks(context.WithoutCancel(ctx), set, p.Index, w.progress(p, untilDone(ctx, chunks, &stopped))); err != nil {
		return err
	}
	return cmp.Or(fetched, stopped)
}

// ErrNoSource: a payload is neither a local file nor downloadable (the
// Writer has no downloader).
var ErrNoSource = errors.New("payload: no source")

// untilDone passes chunks on until ctx ends; then it leaves ctx's error
// in *err.
func untilDone(ctx context.Context, chunks iter.Seq2[uint64, ipc.Chunk], err *error) iter.Seq2[uint64, ipc.Chunk] {
	return func(yield func(uint64, ipc.Chunk) bool) {
		for off, c := range chunks {
			if *err = ctx.Err(); *err != nil || !yield(off, c) {
				return
			}
		}
	}
}

// openPayload opens a local payload that must hold at least size bytes.
func openPayload(path string, size uint64) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && uint64(st.Size()) < size {
		err = fmt.Errorf("payload: %s has %d bytes, the manifest declares %d", path, st.Size(), size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fileChunks yields the first size bytes of f as chunks of the file, which
// the channel takes from it without a copy through this process.
func fileChunks(f *os.File, size uint64, chunk int) iter.Seq2[uint64, ipc.Chunk] {
	return func(yield func(uint64, ipc.Chunk) bool) {
		for off := uint64(0); off < size; {
			n := int(min(uint64(chunk), size-off))
			if !yield(off, ipc.Chunk{File: f, Off: int64(off), Len: n}) {
				return
			}
			off += uint64(n)
		}
	}
}

// download yields the payload's chunks as the downloader hands them over;
// the download's error, if any, is left in *err.
func (w *Writer) download(ctx context.Context, p ipc.PayloadRequest, err *error) iter.Seq2[uint64, ipc.Chunk] {
	chunk := w.SW.MaxChunk()
	return func(yield func(uint64, ipc.Chunk) bool) {
		*err = w.Fetch.Fetch(ctx, p.URI, p.Size, 0, func(off uint64, b []byte) error {
			for len(b) > 0 {
				n := min(len(b), chunk)
				if !yield(off, ipc.Chunk{Data: b[:n]}) {
					return errStopped
				}
				off += uint64(n)
				b = b[n:]
			}
			return nil
		})
	}
}

// errStopped ends a download whose chunks the channel no longer takes.
var errStopped = errors.New("payload: stream stopped")

// progress passes chunks on and says how far the payload is, every
// sixteenth of it (and MiB at least): each line crosses to whoever asked
// for the update, which a line per chunk would keep busy.
func (w *Writer) progress(p ipc.PayloadRequest, chunks iter.Seq2[uint64, ipc.Chunk]) iter.Seq2[uint64, ipc.Chunk] {
	step := max(p.Size/16, 1<<20)
	return func(yield func(uint64, ipc.Chunk) bool) {
		var last uint64
		for off, c := range chunks {
			if !yield(off, c) {
				return
			}
			if end := off + uint64(c.Size()); end-last >= step || end == p.Size {
				w.say("payload %s: %d/%d bytes", p.URI, end, p.Size)
				last = end
			}
		}
	}
}
