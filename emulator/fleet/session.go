package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
)

// MediaType is TEEP's media type over HTTP.
const MediaType = "application/teep+cbor"

// ErrTAM is a session the TAM refused or failed.
var ErrTAM = errors.New("fleet: the TAM refused")

// Outcome is what one session did.
type Outcome struct {
	// Updates are the TEEP Updates the device received (0 or 1).
	Updates int
	// Envelopes are the envelopes the Update carried.
	Envelopes int
	// Success and Error: what the device answered the Update.
	Success, Error bool
	// Rebooted: the set staged firmware and the device rebooted.
	Rebooted bool
}

// Peer is one device's side of a session: its Agent, the public key it
// signs with, its TA store.
type Peer struct {
	Agent *teep.Agent
	Pub   *suit.Key
	TCs   *TAStore
}

// Session runs one TEEP session with the TAM at url (POST url+"/tam") as
// a broker does: an empty POST, each TAM message relayed to the Agent and
// its answer posted back, until the TAM answers 204 or the Agent has
// nothing to say; a set that staged firmware reboots the device after its
// answer is posted. tamKeys open the TAM's messages for the outcome.
func Session(ctx context.Context, hc *http.Client, url string, tamKeys []*suit.Key, p Peer) (Outcome, error) {
	var out Outcome
	msg, err := post(ctx, hc, url, nil)
	for err == nil && msg != nil {
		if s, oerr := teep.Open(msg, tamKeys, teep.Draft26); oerr == nil {
			if u, ok := s.Message.(*teep.Update); ok {
				out.Updates++
				out.Envelopes += len(u.Manifests)
			}
		}
		var ans teep.Answer
		if ans, err = p.Agent.Handle(ctx, msg); err != nil {
			return out, fmt.Errorf("fleet: agent: %w", err)
		}
		if ans.Message == nil && len(ans.Payloads) > 0 {
			// The TAStore's envelopes integrate their payloads: continue.
			if ans, err = p.Agent.Handle(ctx, nil); err != nil {
				return out, fmt.Errorf("fleet: agent continue: %w", err)
			}
		}
		if ans.Message == nil {
			break
		}
		if s, oerr := teep.Open(ans.Message, []*suit.Key{p.Pub}, teep.Draft26); oerr == nil {
			switch s.Message.(type) {
			case *teep.Success:
				out.Success = true
			case *teep.Error:
				out.Error = true
			}
		}
		msg, err = post(ctx, hc, url, ans.Message)
		if ans.Reboot {
			p.TCs.Reboot()
			out.Rebooted = true
		}
	}
	return out, err
}

// post POSTs one message (nil opens a session) and returns the TAM's
// answer, nil for 204. A TAM that throttles the source (429: all of a
// simulated fleet comes from one address) is asked again after its
// Retry-After, at most MaxThrottled times.
func post(ctx context.Context, hc *http.Client, url string, body []byte) ([]byte, error) {
	for range MaxThrottled {
		b, wait, err := postOnce(ctx, hc, url, body)
		if wait == 0 {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil, fmt.Errorf("%w: throttled %d times", ErrTAM, MaxThrottled)
}

// postOnce is one POST; wait is how long a 429 asks to wait.
func postOnce(ctx context.Context, hc *http.Client, url string, body []byte) (_ []byte, wait time.Duration, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/tam", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", MediaType)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	rsp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(rsp.Body, MaxMessage+1))
	switch {
	case err != nil:
		return nil, 0, err
	case rsp.StatusCode == http.StatusTooManyRequests:
		secs, perr := strconv.Atoi(rsp.Header.Get("Retry-After"))
		if perr != nil || secs < 1 || secs > 60 {
			secs = 1
		}
		return nil, time.Duration(secs) * time.Second, nil
	case rsp.StatusCode == http.StatusNoContent:
		return nil, 0, nil
	case rsp.StatusCode != http.StatusOK:
		return nil, 0, fmt.Errorf("%w: %s: %s", ErrTAM, rsp.Status, bytes.TrimSpace(b))
	case len(b) > MaxMessage:
		return nil, 0, fmt.Errorf("%w: an answer over %d bytes", ErrTAM, MaxMessage)
	}
	return b, 0, nil
}
