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
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/fetch"
)

// MaxEnvelope bounds an envelope read from a file or a URI.
const MaxEnvelope = 1 << 20

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
func (a *Agent) Update(ctx context.Context, envelopes [][]byte) (reboot bool, err error) {
	var set uint64
	for i, env := range envelopes {
		res, err := a.SW.StartUpdate(ctx, env)
		if err != nil {
			return false, fmt.Errorf("envelope %d: %w", i+1, err)
		}
		set = res.Set
		a.say("envelope %d accepted by the secure world: set %d, %d payload(s) to fetch", i+1, res.Set, len(res.Payloads))
		for _, p := range res.Payloads {
			if err := a.stream(ctx, res.Set, p); err != nil {
				return false, fmt.Errorf("payload %s: %w", p.URI, err)
			}
			if err := a.SW.Finish(ctx, res.Set, p.Index); err != nil {
				return false, fmt.Errorf("payload %s: %w", p.URI, err)
			}
			a.say("payload %s: %d bytes written, digest verified by the secure world", p.URI, p.Size)
		}
	}
	if err := a.SW.Install(ctx, set); err != nil {
		return false, fmt.Errorf("install: %w", err)
	}
	infos, err := a.SW.Query(ctx)
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

// stream copies one payload to the secure world in chunks.
func (a *Agent) stream(ctx context.Context, set uint64, p ipc.PayloadRequest) error {
	chunk := a.SW.MaxChunk()
	var last uint64
	sink := func(off uint64, b []byte) error {
		for len(b) > 0 {
			n := min(len(b), chunk)
			if err := a.SW.WriteChunk(ctx, set, p.Index, off, b[:n]); err != nil {
				return err
			}
			off += uint64(n)
			b = b[n:]
		}
		if off-last >= 1<<20 || off == p.Size {
			a.say("payload %s: %d/%d bytes", p.URI, off, p.Size)
			last = off
		}
		return nil
	}
	if path, ok := a.Local[p.URI]; ok {
		return copyFile(path, p.Size, chunk, sink)
	}
	if a.Fetch == nil {
		return fmt.Errorf("agent: no downloader and no local file for %s", p.URI)
	}
	return a.Fetch.Fetch(ctx, p.URI, p.Size, 0, sink)
}

func copyFile(path string, size uint64, chunk int, sink func(uint64, []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, chunk)
	var off uint64
	for off < size {
		n, err := f.Read(buf[:min(uint64(chunk), size-off)])
		if n > 0 {
			if err := sink(off, buf[:n]); err != nil {
				return err
			}
			off += uint64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != size {
		return fmt.Errorf("agent: %s has %d bytes, the manifest declares %d", path, off, size)
	}
	return nil
}

// HealthCheck runs after a boot: if components are in trial, check decides
// whether the new images work, and the trial is accepted or rejected. It
// reports which it did ("accepted", "rejected" or "" for no trial).
func (a *Agent) HealthCheck(ctx context.Context, check func(context.Context) error) (string, error) {
	infos, err := a.SW.Query(ctx)
	if err != nil {
		return "", err
	}
	trial := false
	for _, in := range infos {
		trial = trial || in.State == ipc.StateTrial
	}
	if !trial {
		return "", nil
	}
	if cerr := check(ctx); cerr != nil {
		a.say("health check failed (%v): rejecting the trial", cerr)
		return "rejected", a.SW.Reject(ctx)
	}
	a.say("health check passed: accepting the trial")
	return "accepted", a.SW.Accept(ctx)
}
