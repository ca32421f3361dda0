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
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/fetch"
	"github.com/teeup/teeup/normal/payload"
)

// Agent drives updates from the normal world. The payloads go through a
// payload.Writer made of its fields.
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
	w := &payload.Writer{SW: a.SW, Fetch: a.Fetch, Local: a.Local, Progress: a.Progress}
	var set uint64 // 0 until the secure world opens one: cancel whichever is in progress
	defer func() {
		if err != nil {
			err = w.Cancel(sw, set, err)
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
			if err := w.Write(ctx, res.Set, p); err != nil {
				return false, err
			}
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
