package fwu

import (
	"context"
	"errors"
	"fmt"
)

// ErrSetFailed: Install found the install set failed (a payload's digest
// did not match, a manifest failed on its payloads); it is abandoned by
// the next update or by Cancel. It comes with ErrBadState.
var ErrSetFailed = errors.New("fwu: the install set failed")

// StartSet starts envelopes as one install set of their own, each as
// StartUpdate starts it, for a caller that hands the service a whole set
// at once (the TEEP Agent's Update). A set already in progress is
// ErrBusy: nothing joins it. When an envelope is refused the set is
// abandoned. It returns the set, the payloads to write, and the outcome
// of each envelope processed, the refused one's last.
func (s *Service) StartSet(ctx context.Context, envelopes [][]byte) (uint64, []PayloadRequest, []*Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return 0, nil, nil, err
	}
	if s.set != nil && s.set.failed == nil {
		return 0, nil, nil, fmt.Errorf("%w: install set %d is in progress", ErrBusy, s.set.id)
	}
	var (
		set      uint64
		reqs     []PayloadRequest
		outcomes []*Outcome
	)
	for _, raw := range envelopes {
		id, r, err := s.startUpdate(ctx, raw)
		if err != nil {
			if refused, ok := errors.AsType[*RefusedError](err); ok {
				outcomes = append(outcomes, refused.Outcome)
			}
			if s.set != nil { // ours: none was in progress

				err = errors.Join(err, s.abandon())
			}
			return 0, nil, outcomes, err
		}
		set = id
		reqs = append(reqs, r...)
		outcomes = append(outcomes, s.last)
	}
	return set, reqs, outcomes, nil
}
