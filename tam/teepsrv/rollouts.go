package teepsrv

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

// The seam between the TEEP decision and the rollout engine (issue 15).
// Envelopes published for direct delivery come from LatestFor (held ones
// never do); envelopes held for a release come only from the engine's
// Offer, for a device whose attestation is affirming, in a started wave
// of a running rollout. The decision chooses among both as among one
// list, the engine Claims what the Update carries (a compare-and-set per
// delivery) before it is sent, and hears the device's Success or Error.

// candidates is what a device may receive now: the latest direct
// envelopes and the release envelopes offered, keeping of each component
// only the envelopes at its highest sequence number (a newer direct
// publish supersedes a release's envelope, and a release's newer one the
// direct one).
func candidates(latest []store.Envelope, offer *rollout.Offer) []store.Envelope {
	if offer == nil || len(offer.Envelopes) == 0 {
		return latest
	}
	all := append(append([]store.Envelope(nil), latest...), offer.Envelopes...)
	best := map[string]uint64{}
	for _, e := range all {
		for _, c := range e.Components {
			if seq, ok := best[c.String()]; !ok || e.SequenceNumber > seq {
				best[c.String()] = e.SequenceNumber
			}
		}
	}
	out := all[:0]
	for _, e := range all {
		keep := true
		for _, c := range e.Components {
			keep = keep && e.SequenceNumber >= best[c.String()]
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// offer is the rollouts' offer to dev in the session of token; nil
// without an engine.
func (s *Server) offer(ctx context.Context, dev store.Device, token []byte, status string, have map[string]uint64) (*rollout.Offer, error) {
	if s.cfg.Rollouts == nil {
		return nil, nil
	}
	o, err := s.cfg.Rollouts.Offer(ctx, rollout.Device{ID: dev.ID, Attestation: status, Have: have, Token: token})
	if err != nil {
		return nil, fmt.Errorf("teepsrv: rollouts of %s: %w", dev.ID, err)
	}
	return o, nil
}

// claim is send without what the rollouts could not claim for token.
func (s *Server) claim(ctx context.Context, offer *rollout.Offer, token []byte, send []store.Envelope) ([]store.Envelope, error) {
	if s.cfg.Rollouts == nil {
		return send, nil
	}
	send, err := s.cfg.Rollouts.Claim(ctx, offer, token, send)
	if err != nil {
		return nil, fmt.Errorf("teepsrv: claim release deliveries: %w", err)
	}
	return send, nil
}

// answered is what the device's answer to the Update of sess does to
// the rollouts' deliveries, recorded with the answer; nil without an
// engine.
func (s *Server) answered(ctx context.Context, dev string, sess store.Session, success bool, detail string) ([]store.DeliveryMove, error) {
	if s.cfg.Rollouts == nil {
		return nil, nil
	}
	moves, err := s.cfg.Rollouts.Answered(ctx, dev, sess, success, detail)
	if err != nil {
		return nil, fmt.Errorf("teepsrv: rollout outcome of %s: %w", dev, err)
	}
	return moves, nil
}

// settle checks the thresholds of the rollouts moves touched, once the
// answer is recorded. A check that fails does not fail the answer, which
// is recorded whole (the device would be told an error it cannot retry:
// its session is spent): it is logged and left to resettle.
func (s *Server) settle(ctx context.Context, moves []store.DeliveryMove) {
	if s.cfg.Rollouts == nil || len(moves) == 0 {
		return
	}
	if err := s.cfg.Rollouts.Settle(ctx, moves); err != nil {
		s.unsettled.Store(true)
		s.log.Warn("rollout thresholds unchecked, checked again when the next session opens", "err", err)
	}
}

// resettle checks every running rollout's thresholds (rollout.Engine's
// Recover) when a settle failed since, from the request that opens a
// session: a wave whose devices have all answered gets no later answer
// to start the next one, and must not wait for the TAM's restart.
func (s *Server) resettle(ctx context.Context) {
	if s.cfg.Rollouts == nil || !s.unsettled.CompareAndSwap(true, false) {
		return
	}
	if err := s.cfg.Rollouts.Recover(ctx); err != nil {
		s.unsettled.Store(true)
		s.log.Warn("rollout thresholds still unchecked", "err", err)
	}
}
