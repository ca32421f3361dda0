package broker

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/payload"
)

// Outcome is what a session did, counted by the broker: what it relayed,
// never what a message says (the broker does not read them).
type Outcome struct {
	// Received and Sent count the TEEP messages from and to the TAM.
	Received int `json:"received"`
	Sent     int `json:"sent"`
	// Requests counts the HTTP requests to the TEEP endpoint, retries
	// included.
	Requests int `json:"requests"`
	// Payloads and PayloadBytes count the payloads written into the
	// secure world and their bytes.
	Payloads     int    `json:"payloads"`
	PayloadBytes uint64 `json:"payload_bytes"`
	// Reboot: the Agent committed an install set that the next reset
	// applies (firmware); the caller asks the secure world to reboot.
	Reboot bool `json:"reboot"`
	// Duration is how long the session took.
	Duration time.Duration `json:"duration_ns"`
}

// Messages is the number of TEEP messages the session exchanged.
func (o *Outcome) Messages() int { return o.Received + o.Sent }

// RunSession runs one TEEP session between the TAM at base and the Agent
// behind sw, with client (nil: http.DefaultClient's settings) and every
// other setting at its default: the simplest way to drive a broker from
// a test.
func RunSession(ctx context.Context, base string, client *http.Client, sw *ipc.Client) (*Outcome, error) {
	b, err := New(Config{TAM: base, Client: client, SW: sw})
	if err != nil {
		return nil, err
	}
	return b.Session(ctx)
}

// Session runs one TEEP session: an empty POST opens it; each message
// the TAM answers with is relayed to the Agent, and the Agent's answer
// POSTed back, until the TAM answers 204 or the Agent has nothing to
// send. It returns what it did, also on error. When the outcome says
// Reboot, the caller asks the secure world to reboot, even after an error
// (the set the Agent committed is staged either way; the TAM learns of
// it from the next session's query).
//
// The session is bounded by Config.SessionTimeout (ErrSessionDeadline),
// each request by Config.RequestTimeout. Sessions run one at a time.
// Calls to the secure world are never abandoned half way (that would break
// the channel): ctx stops a session between two of them.
func (b *Broker) Session(ctx context.Context) (out *Outcome, err error) {
	b.session.Lock()
	defer b.session.Unlock()
	ctx, cancel := context.WithTimeoutCause(ctx, b.sessionTimeout, ErrSessionDeadline)
	defer cancel()
	out = &Outcome{}
	start := b.now()
	defer func() {
		out.Duration = b.now().Sub(start)
		attrs := []any{"received", out.Received, "sent", out.Sent, "requests", out.Requests,
			"payloads", out.Payloads, "payload_bytes", out.PayloadBytes, "reboot", out.Reboot}
		if err != nil {
			b.log.Warn("TEEP session failed", append(attrs, "err", err)...)
		} else {
			b.log.Info("TEEP session over", attrs...)
		}
	}()
	b.say("TEEP session with %s", b.endpoint)
	msg, err := b.post(ctx, out, nil)
	if err != nil {
		return out, err
	}
	for len(msg) > 0 {
		if out.Received >= MaxMessages {
			return out, fmt.Errorf("%w: more than %d messages", ErrTooManyMessages, MaxMessages)
		}
		out.Received++
		b.say("message %d from the TAM (%d bytes): relayed to the Agent", out.Received, len(msg))
		answer, err := b.relay(ctx, out, msg)
		if err != nil {
			return out, err
		}
		if len(answer) == 0 {
			b.say("the Agent has nothing to send: session over")
			return out, nil
		}
		if msg, err = b.post(ctx, out, answer); err != nil {
			return out, err
		}
		out.Sent++
		b.say("the Agent's answer (%d bytes) sent to the TAM", len(answer))
	}
	b.say("the TAM has nothing more: session over")
	return out, nil
}

func (b *Broker) say(format string, args ...any) {
	if b.progress != nil {
		b.progress(fmt.Sprintf(format, args...))
	}
}

// relay hands msg to the Agent and returns its answer. When the Agent
// asks for payloads, relay writes them into the set it opened and asks it
// to continue (an empty message), as often as it asks, up to
// MaxPayloadRounds; any failure before the continue cancels the set.
func (b *Broker) relay(ctx context.Context, out *Outcome, msg []byte) ([]byte, error) {
	sw := context.WithoutCancel(ctx)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	res, err := b.sw.RelayTEEP(sw, msg)
	if err != nil {
		return nil, fmt.Errorf("relay to the agent: %w", err)
	}
	for round := 0; len(res.Payloads) > 0; round++ {
		if err := b.payloads(ctx, out, res, round); err != nil {
			return nil, err
		}
		set := res.Set
		if res, err = b.sw.RelayTEEP(sw, nil); err != nil {
			return nil, fmt.Errorf("relay to the agent: continue set %d: %w", set, err)
		}
	}
	if res.Reboot {
		out.Reboot = true
		b.say("the Agent staged an install set: the device reboots to apply it")
	}
	return res.Message, nil
}

// payloads writes the payloads res asks for into its set, or cancels the
// set.
func (b *Broker) payloads(ctx context.Context, out *Outcome, res *ipc.RelayTEEPResult, round int) error {
	w := &payload.Writer{SW: b.sw, Fetch: b.fetch, Progress: b.progress}
	switch {
	case len(res.Message) > 0:
		return w.Cancel(ctx, res.Set, ErrAgentAnswer)
	case round >= MaxPayloadRounds:
		return w.Cancel(ctx, res.Set, fmt.Errorf("%w: the Agent asked for payloads %d times for one message", ErrTooManyMessages, round+1))
	}
	b.say("the Agent opened install set %d: %d payload(s) to fetch", res.Set, len(res.Payloads))
	for _, p := range res.Payloads {
		if err := w.Write(ctx, res.Set, p); err != nil {
			return w.Cancel(ctx, res.Set, err)
		}
		out.Payloads++
		out.PayloadBytes += p.Size
	}
	if err := context.Cause(ctx); err != nil {
		return w.Cancel(ctx, res.Set, err)
	}
	return nil
}
