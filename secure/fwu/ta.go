package fwu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
)

// A TA update installs, updates or unlinks Trusted Applications. Unlike
// firmware it needs no reboot: Install writes the TA store, all the set's
// changes in one step, and they are in effect.

// taSequences are what a TA manifest runs on the device.
var taSequences = []int64{suit.KeyPayloadFetch, suit.KeyInstall, suit.KeyValidate}

// taUpdate is one TA envelope in the install set.
type taUpdate struct {
	v        *suit.Verified
	envelope []byte // as the store keeps it: without integrated payloads
	platform *taPlatform
	payloads []*payload // its fetches, in the order the plan made them
	changes  []storage.TA
	state    State
}

// isTAManifest reports whether every component of m belongs to a TA.
func isTAManifest(m *suit.Manifest) bool {
	for _, id := range m.Components {
		if _, ok := storage.TAOf(id); !ok {
			return false
		}
	}
	return len(m.Components) > 0
}

// tas lists the TAs a manifest touches.
func tas(m *suit.Manifest) []suit.ComponentID {
	var out []suit.ComponentID
	for _, id := range m.Components {
		ta, _ := storage.TAOf(id)
		if !slices.ContainsFunc(out, ta.Equal) {
			out = append(out, ta)
		}
	}
	return out
}

func (s *Service) startTA(ctx context.Context, raw []byte, v *suit.Verified) (uint64, []PayloadRequest, error) {
	if s.store == nil {
		return 0, nil, fmt.Errorf("%w: this device has no secure storage for TAs", suit.ErrUnsupported)
	}
	if s.set != nil && len(s.set.payloads) > 0 && len(s.set.tas) == 0 {
		return 0, nil, fmt.Errorf("%w: the install set holds firmware; TAs go in a set of their own", ErrBusy)
	}
	if s.set != nil {
		for _, u := range s.set.tas {
			for _, ta := range tas(v.Manifest) {
				if slices.ContainsFunc(tas(u.v.Manifest), ta.Equal) {
					return 0, nil, fmt.Errorf("%w: %s is already in the install set", ErrBusy, ta)
				}
			}
		}
	}
	plat := newTAPlatform(s.boot, s.store, s.keys)
	res, err := suit.Process(ctx, v, plat, suit.Options{Sequences: taSequences, Authorizer: s.policy})
	if err != nil {
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Verified: v, Result: res, Err: err})
	}
	var incoming, held uint64
	for _, f := range plat.requests {
		incoming += f.size
	}
	if s.set != nil {
		for _, p := range s.set.payloads {
			held += p.size
		}
	}
	if incoming+held > MaxTASetBytes {
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Verified: v, Result: res,
			Err: fmt.Errorf("%w: a TA install set of more than %d bytes", suit.ErrRejected, MaxTASetBytes)})
	}
	stored := *v.Envelope
	stored.Integrated = nil
	s.openSet()
	u := &taUpdate{v: v, envelope: stored.Encode(), platform: plat, state: Writing}
	s.set.tas = append(s.set.tas, u)
	var reqs []PayloadRequest
	for _, f := range plat.requests {
		p := &payload{index: uint32(len(s.set.payloads)), uri: f.uri, size: f.size, envelope: u.envelope, v: v,
			sink: bytes.NewBuffer(make([]byte, 0, f.size)), state: Writing, ta: u}
		u.payloads = append(u.payloads, p)
		s.set.payloads = append(s.set.payloads, p)
		reqs = append(reqs, PayloadRequest{Index: p.index, Component: f.id, URI: f.uri, Size: f.size})
	}
	for _, ta := range tas(v.Manifest) {
		delete(s.updatedTAs, ta.String())
	}
	if len(reqs) == 0 {
		if err := s.applyTA(ctx, u); err != nil {
			return 0, nil, err
		}
		return s.set.id, nil, nil
	}
	s.last = &Outcome{Envelope: raw, Verified: v, Result: res}
	return s.set.id, reqs, nil
}

// finishTA takes a TA payload that arrived whole; the last one of its
// update runs the update for real.
func (s *Service) finishTA(p *payload) error {
	u := p.ta
	for i, q := range u.payloads {
		if q == p {
			u.platform.requests[i].data = p.sink.(*bytes.Buffer).Bytes()
		}
	}
	p.state = Candidate
	for _, q := range u.payloads {
		if q.state != Candidate {
			return nil
		}
	}
	return s.applyTA(context.Background(), u)
}

// applyTA runs the TA manifest again on the real content: digests,
// decryption and conditions. A failure fails the whole set.
func (s *Service) applyTA(ctx context.Context, u *taUpdate) error {
	u.platform.startApply()
	m := u.v.Manifest
	res, err := suit.Process(ctx, u.v, u.platform, suit.Options{Sequences: taSequences, Authorizer: s.policy})
	if err != nil {
		return s.refuse(&Outcome{Envelope: u.envelope, Verified: u.v, Result: res, Err: s.failTA(u, err)})
	}
	changes, err := u.platform.changes(m.Components, m.SequenceNumber, u.envelope)
	if err != nil {
		return s.refuse(&Outcome{Envelope: u.envelope, Verified: u.v, Result: res, Err: s.failTA(u, err)})
	}
	u.changes, u.state = changes, Candidate
	s.last = &Outcome{Envelope: u.envelope, Verified: u.v, Result: res}
	return nil
}

// failTA marks u and the set failed with err, and returns err.
func (s *Service) failTA(u *taUpdate, err error) error {
	u.state = Failed
	for _, p := range u.payloads {
		p.state = Failed
	}
	s.set.failed = err
	return err
}

// installTAs writes every change of the set into the TA store at once.
func (s *Service) installTAs() error {
	var all []storage.TA
	for _, u := range s.set.tas {
		if u.state != Candidate {
			return fmt.Errorf("%w: a TA update is %s, not a candidate", ErrBadState, u.state)
		}
		all = append(all, u.changes...)
	}
	if err := s.store.Apply(all); err != nil {
		for _, u := range s.set.tas {
			s.failTA(u, err)
		}
		return err
	}
	for _, c := range all {
		s.updatedTAs[c.ID.String()] = true
	}
	s.set = nil
	return nil
}

// queryTAs reports the installed TAs and the ones in the install set.
func (s *Service) queryTAs() []ComponentInfo {
	if s.store == nil {
		return nil
	}
	var out []ComponentInfo
	for _, ta := range s.store.TAs() {
		if ta.Unlinked {
			continue
		}
		sum := sha256.Sum256(ta.Image)
		info := ComponentInfo{ID: ta.ID, State: Ready, SequenceNumber: ta.SequenceNumber, Digest: sum[:], Size: uint64(len(ta.Image))}
		if s.updatedTAs[ta.ID.String()] {
			info.State = Updated
		}
		out = append(out, info)
	}
	if s.set == nil {
		return out
	}
	for _, u := range s.set.tas {
		for _, ta := range tas(u.v.Manifest) {
			i := slices.IndexFunc(out, func(in ComponentInfo) bool { return in.ID.Equal(ta) })
			if i < 0 {
				out = append(out, ComponentInfo{ID: ta, State: u.state})
			} else {
				out[i].State = u.state
			}
		}
	}
	return out
}
