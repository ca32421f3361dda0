package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// Affirming is the attestation status (AR4SI trust tier) a device's last
// appraisal must have for it to receive a release.
const Affirming = "affirming"

// Device is what the TEEP endpoint knows of a device in a session, from
// its verified QueryResponse.
type Device struct {
	ID string
	// Attestation is the status of the appraisal of this session's
	// evidence.
	Attestation string
	// Have is what it runs: the sequence number of each component, by
	// the component identifier's text (suit.ComponentID.String).
	Have map[string]uint64
	// Token is the session's token. A delivery sent under it was claimed
	// by an earlier try of this same QueryResponse whose session was not
	// recorded (the TAM stopped, or failed to record it): it is offered
	// again, not taken for an Update in flight.
	Token []byte
}

// Offer is what the running rollouts hold for one device in one session:
// the release envelopes it may receive now, and the deliveries they come
// from, for Claim.
type Offer struct {
	// Envelopes are the release envelopes the device needs, each once.
	Envelopes []store.Envelope
	claims    []claim
}

// claim is a delivery as Offer read it and the digests of the envelopes
// it offers.
type claim struct {
	d       store.Delivery
	digests [][]byte
}

// Offer records what dev's tc-list proves (a delivery whose release it
// runs succeeded; a firmware pair installed but not booted failed) and
// returns the envelopes of the releases it may receive now: of running
// rollouts, in a started wave, not sent before or sent in a session that
// ended without the whole release installed, and only if its attestation
// is affirming. An untrustworthy device gets an empty offer and changes
// nothing. It sends nothing: the TEEP endpoint decides what goes in its
// Update, then Claims it.
func (e *Engine) Offer(ctx context.Context, dev Device) (*Offer, error) {
	offer := &Offer{}
	if dev.Attestation != Affirming {
		return offer, nil
	}
	dels, err := e.st.DeliveriesOf(ctx, dev.ID)
	if err != nil {
		return nil, fmt.Errorf("rollout: deliveries of %s: %w", dev.ID, err)
	}
	c := e.newCache()
	now := e.cfg.Now()
	touched := map[string]bool{}
	offered := map[string]bool{}
	for _, d := range dels {
		if d.State == store.DeliverySucceeded || d.State == store.DeliveryFailed {
			continue
		}
		r, envs, err := c.release(ctx, d.Rollout)
		if err != nil {
			return nil, err
		}
		need := needed(envs, dev.Have)
		busy := false
		if d.State == store.DeliverySent && !bytes.Equal(d.Token, dev.Token) {
			if busy, err = e.inFlight(ctx, d.Token, now); err != nil {
				return nil, err
			}
		}
		next, from, token := d, d.State, d.Token
		next.Updated = now
		switch {
		case d.State == store.DeliveryInstalled && len(need) == 0:
			next.State, next.Detail = store.DeliverySucceeded, "its tc-list shows the release after the reboot"
		case d.State == store.DeliveryInstalled:
			next.State, next.Detail = store.DeliveryFailed, "after installing the release it runs the older version: its trial boot was rolled back"
		case d.Wave > r.Wave:
			continue // its wave has not started
		case len(need) == 0:
			next.State, next.Detail = store.DeliverySucceeded, "its tc-list shows the release"
		case busy:
			continue // its Update waits for an answer
		case d.State == store.DeliverySent && d.Sends >= e.cfg.MaxSends:
			next.State, next.Detail = store.DeliveryFailed, fmt.Sprintf("the release is not installed after %d Updates", d.Sends)
		case r.State != store.RolloutRunning:
			continue // paused, halted, canceled: nothing new
		default:
			cl := claim{d: d}
			for _, env := range need {
				cl.digests = append(cl.digests, env.Digest)
				if !offered[string(env.Digest)] {
					offered[string(env.Digest)] = true
					offer.Envelopes = append(offer.Envelopes, env)
				}
			}
			offer.claims = append(offer.claims, cl)
			continue
		}
		if err := e.st.MoveDelivery(ctx, next, from, token); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("rollout: delivery of %s to %s: %w", d.Rollout, d.Device, err)
		}
		touched[d.Rollout] = true
	}
	for id := range touched {
		if err := e.evaluate(ctx, id); err != nil {
			return nil, err
		}
	}
	return offer, nil
}

// inFlight reports whether the session of token still waits for the
// device's answer, so that its Update is not sent again.
func (e *Engine) inFlight(ctx context.Context, token []byte, now time.Time) (bool, error) {
	sess, err := e.st.Session(ctx, token)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil // expired and forgotten
	case err != nil:
		return false, fmt.Errorf("rollout: session %x: %w", token, err)
	}
	return sess.State != store.Done && now.Before(sess.Expires), nil
}

// Claim marks sent, under the session's token, every delivery of offer
// that send (what the TEEP endpoint decided its Update carries) holds
// envelopes of, each a compare-and-set, and returns send without the
// envelopes of deliveries another session or replica claimed first: a
// device never gets one release from two sessions at once. A delivery
// whose rollout stopped running since Offer is not claimed either.
func (e *Engine) Claim(ctx context.Context, offer *Offer, token []byte, send []store.Envelope) ([]store.Envelope, error) {
	if offer == nil || len(offer.claims) == 0 {
		return send, nil
	}
	inSend := map[string]bool{}
	for _, env := range send {
		inSend[string(env.Digest)] = true
	}
	now := e.cfg.Now()
	won, lost := map[string]bool{}, map[string]bool{}
	for _, cl := range offer.claims {
		var carried [][]byte
		for _, d := range cl.digests {
			if inSend[string(d)] {
				carried = append(carried, d)
			}
		}
		if len(carried) == 0 {
			continue
		}
		r, err := e.st.Rollout(ctx, cl.d.Rollout)
		if err != nil {
			return nil, fmt.Errorf("rollout: %w", err)
		}
		next := cl.d
		next.State, next.Token, next.Sends, next.Detail, next.Updated = store.DeliverySent, token, cl.d.Sends+1, "", now
		err = nil
		if r.State != store.RolloutRunning {
			err = store.ErrConflict
		} else {
			err = e.st.MoveDelivery(ctx, next, cl.d.State, cl.d.Token)
		}
		result := won
		switch {
		case errors.Is(err, store.ErrConflict):
			result = lost
		case err != nil:
			return nil, fmt.Errorf("rollout: send %s to %s: %w", cl.d.Rollout, cl.d.Device, err)
		}
		for _, d := range carried {
			result[string(d)] = true
		}
	}
	out := send[:0:0]
	for _, env := range send {
		if lost[string(env.Digest)] && !won[string(env.Digest)] {
			continue
		}
		out = append(out, env)
	}
	return out, nil
}

// Answered is what the device's answer to the Update of session sess
// does to the deliveries that Update carried: Error fails each; Success
// succeeds each whose release is now installed whole (installed, for a
// firmware pair, until its next tc-list shows it booted), and leaves sent
// the one whose rest goes in the next session. detail says why an Error
// failed. It only reads: the TEEP endpoint records the moves with the
// answer itself (store.RecordAnswer), all in one transaction, then calls
// Settle.
func (e *Engine) Answered(ctx context.Context, device string, sess store.Session, success bool, detail string) ([]store.DeliveryMove, error) {
	if len(sess.Envelopes) == 0 {
		return nil, nil
	}
	dels, err := e.st.DeliveriesOf(ctx, device)
	if err != nil {
		return nil, fmt.Errorf("rollout: deliveries of %s: %w", device, err)
	}
	carried := map[string]bool{}
	for _, d := range sess.Envelopes {
		carried[string(d)] = true
	}
	var have map[string]uint64
	c := e.newCache()
	now := e.cfg.Now()
	var moves []store.DeliveryMove
	for _, d := range dels {
		if d.State != store.DeliverySent || !bytes.Equal(d.Token, sess.Token) {
			continue
		}
		next := d
		next.Updated = now
		if !success {
			next.State, next.Detail = store.DeliveryFailed, detail
		} else {
			_, envs, err := c.release(ctx, d.Rollout)
			if err != nil {
				return nil, err
			}
			if have == nil {
				if have, err = e.running(ctx, device); err != nil {
					return nil, err
				}
			}
			rest, firmware := 0, false
			for _, env := range envs {
				switch {
				case carried[string(env.Digest)]:
					firmware = firmware || env.Kind == store.FirmwareEnvelope
				case len(needed([]store.Envelope{env}, have)) > 0:
					rest++
				}
			}
			switch {
			case rest > 0:
				continue // the next session sends the rest
			case firmware:
				next.State, next.Detail = store.DeliveryInstalled, "installed; confirmed when its next tc-list shows it booted"
			default:
				next.State, next.Detail = store.DeliverySucceeded, "installed"
			}
		}
		moves = append(moves, store.DeliveryMove{Next: next, From: store.DeliverySent, Token: sess.Token})
	}
	return moves, nil
}

// Settle checks the thresholds of the rollouts whose deliveries moves
// moved, once they are recorded. A TAM that stops before Settle leaves the
// check to the next change of the rollout (an answer, an Offer that moves
// a delivery, a resume): the counts it checks are recorded.
func (e *Engine) Settle(ctx context.Context, moves []store.DeliveryMove) error {
	seen := map[string]bool{}
	for _, m := range moves {
		if seen[m.Next.Rollout] {
			continue
		}
		seen[m.Next.Rollout] = true
		if err := e.evaluate(ctx, m.Next.Rollout); err != nil {
			return err
		}
	}
	return nil
}

// running is what a device last reported running, by component.
func (e *Engine) running(ctx context.Context, device string) (map[string]uint64, error) {
	d, err := e.st.Device(ctx, device)
	if err != nil {
		return nil, fmt.Errorf("rollout: device %s: %w", device, err)
	}
	have := map[string]uint64{}
	for _, tc := range d.TCs {
		if seq, ok := have[tc.Component.String()]; !ok || tc.SequenceNumber > seq {
			have[tc.Component.String()] = tc.SequenceNumber
		}
	}
	return have, nil
}

// needed is the envelopes of envs that install a component have lacks
// or runs at a lower sequence number.
func needed(envs []store.Envelope, have map[string]uint64) []store.Envelope {
	var out []store.Envelope
	for _, env := range envs {
		for _, c := range env.Components {
			if seq, ok := have[c.String()]; !ok || seq < env.SequenceNumber {
				out = append(out, env)
				break
			}
		}
	}
	return out
}

// cache holds the rollouts and release envelopes one call reads.
type cache struct {
	e        *Engine
	rollouts map[string]store.Rollout
	releases map[string][]store.Envelope
}

func (e *Engine) newCache() *cache {
	return &cache{e: e, rollouts: map[string]store.Rollout{}, releases: map[string][]store.Envelope{}}
}

// release is the rollout id and the envelopes of its release.
func (c *cache) release(ctx context.Context, id string) (store.Rollout, []store.Envelope, error) {
	r, ok := c.rollouts[id]
	if !ok {
		var err error
		if r, err = c.e.st.Rollout(ctx, id); err != nil {
			return store.Rollout{}, nil, fmt.Errorf("rollout: %w", err)
		}
		c.rollouts[id] = r
	}
	envs, ok := c.releases[r.Release]
	if !ok {
		rel, err := c.e.st.Release(ctx, r.Release)
		if err != nil {
			return store.Rollout{}, nil, fmt.Errorf("rollout: release %q: %w", r.Release, err)
		}
		for _, d := range rel.Envelopes {
			env, err := c.e.st.Envelope(ctx, d)
			if err != nil {
				return store.Rollout{}, nil, fmt.Errorf("rollout: release %q: envelope %x: %w", r.Release, d, err)
			}
			envs = append(envs, env)
		}
		c.releases[r.Release] = envs
	}
	return r, envs, nil
}
