package fwu

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
)

// TA manifests go to the TA installer (package ta), in install sets of
// their own: the service carries their payloads from the normal world into
// secure memory, and their sets through the same life as firmware's (one
// at a time, cancel, the stall bound).

// startTA plans a verified TA envelope into the install set.
func (s *Service) startTA(ctx context.Context, raw []byte, v *suit.Verified) (uint64, []PayloadRequest, error) {
	if s.set != nil && s.set.tas == nil {
		return 0, nil, fmt.Errorf("%w: the install set holds firmware; TAs go in a set of their own", ErrBusy)
	}
	set := s.tas.NewSet()
	if s.set != nil {
		set = s.set.tas
	}
	u, fetches, res, err := set.Plan(ctx, v)
	if errors.Is(err, ta.ErrInSet) {
		return 0, nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		if u != nil { // planned, then failed when applied at once
			s.openSet(set)
			s.set.failed = err
		}
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Verified: v, Result: res, Err: err})
	}
	s.openSet(set)
	var reqs []PayloadRequest
	for i, f := range fetches {
		p := &payload{index: uint32(len(s.set.payloads)), uri: f.URI, size: f.Size, state: Writing,
			dest: &taPayload{update: u, fetch: i, buf: make([]byte, 0, f.Size)}}
		s.set.payloads = append(s.set.payloads, p)
		reqs = append(reqs, PayloadRequest{Index: p.index, Component: f.Component, URI: f.URI, Size: f.Size})
	}
	for _, id := range u.TAs() {
		delete(s.updatedTAs, id.String())
	}
	s.last = &Outcome{Envelope: raw, Verified: v, Result: res}
	return s.set.id, reqs, nil
}

// taPayload is a payload of a TA update, held whole in secure memory
// until the update takes it.
type taPayload struct {
	update *ta.Update
	fetch  int
	buf    []byte
}

func (t *taPayload) Write(p []byte) (int, error) {
	if len(t.buf)+len(p) > cap(t.buf) {
		return 0, ErrOutOfRange // the service checked the declared size
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *taPayload) lend(int) []byte { return nil }
func (t *taPayload) release()        {}

// finish delivers the payload; the update's last one applies the update.
func (t *taPayload) finish(ctx context.Context, _ uint32) (*Outcome, error) {
	res, err := t.update.Deliver(ctx, t.fetch, t.buf)
	if err != nil {
		return &Outcome{Envelope: t.update.Envelope(), Verified: t.update.Verified(), Result: res, Err: err}, err
	}
	return nil, nil
}

// installTAs writes every change of the set into the TA store at once.
func (s *Service) installTAs() error {
	written, err := s.set.tas.Install()
	if errors.Is(err, ta.ErrNotReady) {
		return fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if err != nil {
		s.set.failed = err
		return err
	}
	for _, r := range written {
		s.updatedTAs[r.ID.String()] = true
	}
	s.set = nil
	return nil
}

// queryTAs reports the installed TAs and the ones in the install set.
func (s *Service) queryTAs() []ComponentInfo {
	var out []ComponentInfo
	for _, rec := range s.tas.Store.TAs() {
		if rec.Unlinked {
			continue
		}
		sum := sha256.Sum256(rec.Image)
		info := ComponentInfo{ID: rec.ID, State: Ready, SequenceNumber: rec.SequenceNumber, Digest: sum[:], Size: uint64(len(rec.Image))}
		if s.updatedTAs[rec.ID.String()] {
			info.State = Updated
		}
		out = append(out, info)
	}
	if s.set == nil || s.set.tas == nil {
		return out
	}
	for _, u := range s.set.tas.Updates() {
		state := Writing
		switch {
		case u.Failed():
			state = Failed
		case u.Ready():
			state = Candidate
		}
		for _, id := range u.TAs() {
			i := slices.IndexFunc(out, func(in ComponentInfo) bool { return in.ID.Equal(id) })
			if i < 0 {
				out = append(out, ComponentInfo{ID: id, State: state})
			} else {
				out[i].State = state
			}
		}
	}
	return out
}

// UnlinkTAs removes the TAs ids from the TA store in one step, as an
// unlinking manifest would (their image and personalization data go,
// their sequence numbers stay), for a caller whose own authority says so
// (the TEEP Agent's Update from a trusted TAM). An id that is not a TA is
// refused (suit.ErrRejected); one that is not installed is skipped, so
// that an unlink repeated is no error. It is ErrBusy while an install set
// is in progress: the set was planned against the records it would change.
// It returns the TAs it unlinked.
func (s *Service) UnlinkTAs(ids []suit.ComponentID) ([]suit.ComponentID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return nil, err
	}
	if s.set != nil && s.set.failed == nil {
		return nil, fmt.Errorf("%w: install set %d is in progress", ErrBusy, s.set.id)
	}
	var changes []ta.Record
	var done []suit.ComponentID
	for _, id := range ids {
		if !ta.IsTA(id) {
			return nil, fmt.Errorf("%w: unlink of %s, which is not a TA", suit.ErrRejected, id)
		}
		rec, ok := s.tas.Store.Lookup(id)
		if !ok || rec.Unlinked || slices.ContainsFunc(done, id.Equal) {
			continue
		}
		changes = append(changes, ta.Record{ID: rec.ID, SequenceNumber: rec.SequenceNumber, Unlinked: true})
		done = append(done, rec.ID)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := s.tas.Store.Apply(changes); err != nil {
		return nil, err
	}
	for _, id := range done {
		delete(s.updatedTAs, id.String())
	}
	return done, nil
}
