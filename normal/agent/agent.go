// Package agent is the normal world's update client: it forwards SUIT
// envelopes to the secure world over ipc, downloads the payloads the
// secure world asks for and streams them to it in chunks, installs the
// set, and after the reboot runs the health check that accepts or
// rejects the trial.
//
// Trust: the agent holds no key and never sees the flash; it trusts
// nothing it downloads (the secure world checks every byte) and treats the
// secure world's refusals as final.
package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"strings"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/fetch"
)

// Agent drives updates from the normal world.
type Agent struct {
	SW    *ipc.Client
	Fetch *fetch.Downloader
	// Local maps payload URIs to files the normal world already has (for
	// an update from removable media); other URIs are downloaded.
	Local map[string]string
	// Progress, when set, receives one line per step.
	Progress func(string)
}

func (a *Agent) say(format string, args ...any) {
	if a.Progress != nil {
		a.Progress(fmt.Sprintf(format, args...))
	}
}

// ReadEnvelope reads an envelope from a file or an http(s) URI.
func ReadEnvelope(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readBounded(f, src)
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("agent: %s: HTTP %s", src, resp.Status)
	}
	return readBounded(resp.Body, src)
}

func readBounded(r io.Reader, src string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxEnvelope+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxEnvelope {
		return nil, fmt.Errorf("agent: %s is larger than %d bytes", src, MaxEnvelope)
	}
	return b, nil
}

// Update forwards the envelopes as one install set, streams every payload
// the secure world asks for, and installs the set. It reports whether the
// set waits for a reboot (firmware does; TAs are in effect at once): the
// caller then reboots the device.
//
// On any failure, the end of ctx included, it cancels the set with the
// secure world before it returns, so that the next update finds it idle.
// ctx stops the update between calls to the secure world and stops a
// download, but never abandons a call half way, which would break the
// channel.
func (a *Agent) Update(ctx context.Context, envelopes [][]byte) (reboot bool, err error) {
	sw := context.WithoutCancel(ctx)
	var set uint64 // 0 until the secure world opens one: cancel whichever is in progress
	defer func() {
		if err != nil {
			err = a.cancel(sw, set, err)
		}
	}()
	for i, env := range envelopes {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		res, err := a.SW.StartUpdate(sw, env)
		if err != nil {
			return false, fmt.Errorf("envelope %d: %w", i+1, err)
		}
		set = res.Set
		a.say("envelope %d accepted by the secure world: set %d, %d payload(s) to fetch", i+1, res.Set, len(res.Payloads))
		for _, p := range res.Payloads {
			if err := a.stream(ctx, res.Set, p); err != nil {
				return false, fmt.Errorf("payload %s: %w", p.URI, err)
			}
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if err := a.SW.Finish(sw, res.Set, p.Index); err != nil {
				return false, fmt.Errorf("payload %s: %w", p.URI, err)
			}
			a.say("payload %s: %d bytes written, digest verified by the secure world", p.URI, p.Size)
		}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := a.SW.Install(sw, set); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	infos, err := a.SW.Query(sw)
	if err != nil {
		return false, err
	}
	for _, in := range infos {
		reboot = reboot || in.State == ipc.StateStaged
	}
	if reboot {
		a.say("install set %d staged: it is applied at the next reboot", set)
	} else {
		a.say("install set %d installed: in effect now, no reboot needed", set)
	}
	return reboot, nil
}

// cancel asks the secure world to cancel set (0: whichever is in
// progress) after the update failed with cause, and returns cause, joined
// with the cancel's own failure if it failed too.
func (a *Agent) cancel(ctx context.Context, set uint64, cause error) error {
	if err := a.SW.Cancel(ctx, set); err != nil {
		return errors.Join(cause, fmt.Errorf("%w: %w", ErrCancelFailed, err))
	}
	a.say("update cancelled: the secure world is ready for the next one")
	return cause
}

// ErrCancelFailed is joined to an update's error when the secure world
// did not confirm the cancel that followed it.
var ErrCancelFailed = errors.New("agent: cancel failed")

// stream copies one payload to the secure world in chunks; the next chunk
// is sent while the secure world handles the last.
func (a *Agent) stream(ctx context.Context, set uint64, p ipc.PayloadRequest) error {
	var chunks iter.Seq2[uint64, ipc.Chunk]
	var fetched error // the download's, once its chunks are all sent
	switch path, local := a.Local[p.URI]; {
	case local:
		f, err := openPayload(path, p.Size)
		if err != nil {
			return err
		}
		defer f.Close()
		chunks = fileChunks(f, p.Size, a.SW.MaxChunk())
	case a.Fetch != nil:
		chunks = a.download(ctx, p, &fetched)
	default:
		return fmt.Errorf("agent: no downloader and no local file for %s", p.URI)
	}
	// The chunks stop early when the secure world refused one or the
	// channel failed, and WriteChunks says why; or when ctx ended, between
	// two chunks, never in the middle of one.
	var stopped error
	if err := a.SW.WriteChunks(context.WithoutCancel(ctx), set, p.Index, a.progress(p, untilDone(ctx, chunks, &stopped))); err != nil {
		return err
	}
	return cmp.Or(fetched, stopped)
}

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
		err = fmt.Errorf("agent: %s has %d bytes, the manifest declares %d", path, st.Size(), size)
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
func (a *Agent) download(ctx context.Context, p ipc.PayloadRequest, err *error) iter.Seq2[uint64, ipc.Chunk] {
	chunk := a.SW.MaxChunk()
	return func(yield func(uint64, ipc.Chunk) bool) {
		*err = a.Fetch.Fetch(ctx, p.URI, p.Size, 0, func(off uint64, b []byte) error {
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
var errStopped = errors.New("agent: stream stopped")

// progress passes chunks on and says how far the payload is, every
// sixteenth of it (and MiB at least): each line crosses to whoever asked
// for the update, which a line per chunk would keep busy.
func (a *Agent) progress(p ipc.PayloadRequest, chunks iter.Seq2[uint64, ipc.Chunk]) iter.Seq2[uint64, ipc.Chunk] {
	step := max(p.Size/16, 1<<20)
	return func(yield func(uint64, ipc.Chunk) bool) {
		var last uint64
		for off, c := range chunks {
			if !yield(off, c) {
				return
			}
			if end := off + uint64(c.Size()); end-last >= step || end == p.Size {
				a.say("payload %s: %d/%d bytes", p.URI, end, p.Size)
				last = end
			}
		}
	}
}

// Health is the outcome of the health check of a boot, as the secure
// world answered it: the agent never reports a decision the secure world
// did not confirm.
type Health string

// The outcomes of a health check.
const (
	HealthNoTrial      Health = ""              // nothing was in trial
	HealthAccepted     Health = "accepted"      // the check passed; the secure world accepted the trial
	HealthRejected     Health = "rejected"      // the check failed; the secure world rejected the trial
	HealthAcceptFailed Health = "accept failed" // the check passed; the secure world did not accept
	HealthRejectFailed Health = "reject failed" // the check failed; the secure world did not reject
)

// HealthCheck runs after a boot: if components are in trial, check decides
// whether the new images work, and the trial is accepted or rejected. It
// reports what the secure world made of it, and its error when it refused
// or failed.
func (a *Agent) HealthCheck(ctx context.Context, check func(context.Context) error) (Health, error) {
	infos, err := a.SW.Query(ctx)
	if err != nil {
		return HealthNoTrial, err
	}
	trial := false
	for _, in := range infos {
		trial = trial || in.State == ipc.StateTrial
	}
	if !trial {
		return HealthNoTrial, nil
	}
	if cerr := check(ctx); cerr != nil {
		a.say("health check failed (%v): rejecting the trial", cerr)
		if err := a.SW.Reject(ctx); err != nil {
			return HealthRejectFailed, fmt.Errorf("reject: %w", err)
		}
		return HealthRejected, nil
	}
	a.say("health check passed: accepting the trial")
	if err := a.SW.Accept(ctx); err != nil {
		return HealthAcceptFailed, fmt.Errorf("accept: %w", err)
	}
	return HealthAccepted, nil
}
