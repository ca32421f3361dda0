package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/evidence"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/teep"
)

// EvidenceFormat is the attestation-payload-format of the Agent's
// QueryResponse: the device's evidence in attest's wire form, the media
// type attest/challenge accepts.
const EvidenceFormat = "application/vnd.teeup.evidence+cbor"

// Attester is teep.Attester over the device's evidence: the QueryRequest's
// challenge is the evidence's nonce (8 to 64 bytes).
type Attester struct {
	Source *evidence.Source
}

var _ teep.Attester = Attester{}

// Evidence implements teep.Attester.
func (a Attester) Evidence(nonce []byte) (string, []byte, error) {
	ev, err := a.Source.Evidence(nonce)
	if err != nil {
		return "", nil, err
	}
	return EvidenceFormat, ev, nil
}

// TrustedComponents is teep.TrustedComponents over the update service:
// an Update's install set is started, written and installed there as any
// other (fwu StartSet, the normal world's WriteChunk and Finish, Install),
// so that TAs and firmware from a TAM go through the same checks as those
// from a file. It serves one Agent, whose lock serializes its calls.
type TrustedComponents struct {
	FWU *fwu.Service
	// Wish is the device's configured wish list (requested-tc-list);
	// nil: it asks for nothing.
	Wish []teep.RequestedTC

	started started // the set the Agent started last
}

// started is what the service remembers of the set it started: the
// outcome of each envelope, for the reports, and whether it is firmware.
type started struct {
	set      uint64
	outcomes []*fwu.Outcome
	firmware bool
}

var _ teep.TrustedComponents = (*TrustedComponents)(nil)

// Installed implements teep.TrustedComponents: the TAs in the store and
// the firmware components as they run, each with the sequence number of
// its manifest and the SHA-256 of its image.
func (t *TrustedComponents) Installed() ([]teep.TC, error) {
	infos, err := t.FWU.Query(context.Background())
	if err != nil {
		return nil, err
	}
	var out []teep.TC
	for _, in := range infos {
		if in.Digest == nil {
			continue // in an install set, not installed
		}
		out = append(out, teep.TC{ID: teep.ComponentID(in.ID), SequenceNumber: in.SequenceNumber,
			Digest: suit.Digest{Alg: suit.AlgSHA256, Bytes: in.Digest}.Encode()})
	}
	return out, nil
}

// Wanted implements teep.TrustedComponents.
func (t *TrustedComponents) Wanted() ([]teep.RequestedTC, error) { return t.Wish, nil }

// Unlink implements teep.TrustedComponents: the TAs go from the store at
// once. No manifest ran, so there is no report.
func (t *TrustedComponents) Unlink(_ context.Context, ids []teep.ComponentID) ([][]byte, error) {
	sids := make([]suit.ComponentID, len(ids))
	for i, id := range ids {
		sids[i] = suit.ComponentID(id)
	}
	_, err := t.FWU.UnlinkTAs(sids)
	return nil, busy(err)
}

// Start implements teep.TrustedComponents.
func (t *TrustedComponents) Start(ctx context.Context, envelopes [][]byte) (teep.InstallSet, [][]byte, error) {
	set, reqs, outcomes, err := t.FWU.StartSet(ctx, envelopes)
	if err != nil {
		return teep.InstallSet{}, reports(outcomes), busy(err)
	}
	t.started = started{set: set, outcomes: outcomes}
	for _, o := range outcomes {
		t.started.firmware = t.started.firmware || !ta.IsManifest(o.Verified.Manifest)
	}
	out := teep.InstallSet{Set: set}
	for _, r := range reqs {
		out.Payloads = append(out.Payloads, teep.Payload{Index: r.Index, Component: teep.ComponentID(r.Component), URI: r.URI, Size: r.Size})
	}
	return out, nil, nil
}

// Commit implements teep.TrustedComponents: Install, which stages a
// firmware set for the next reset and writes a TA set into the store.
func (t *TrustedComponents) Commit(ctx context.Context, set uint64) (bool, [][]byte, error) {
	err := t.FWU.Install(ctx, set)
	if errors.Is(err, fwu.ErrBadState) && !errors.Is(err, fwu.ErrSetFailed) {
		return false, nil, fmt.Errorf("%w: %w", teep.ErrNotReady, err)
	}
	s := t.started
	if s.set != set {
		// Not the set the Agent started: Install refused it, nothing to
		// report of it.
		return false, nil, err
	}
	t.started = started{}
	outcomes := s.outcomes
	if err != nil {
		outcomes = failed(outcomes, t.FWU.LastOutcome(), err)
	}
	return s.firmware && err == nil, reports(outcomes), err
}

// Cancel implements teep.TrustedComponents.
func (t *TrustedComponents) Cancel(ctx context.Context, set uint64) error {
	if t.started.set == set {
		t.started = started{}
	}
	return t.FWU.Cancel(ctx, set)
}

// failed is the outcomes of a set that failed with err: the envelope whose
// payload failed gets the service's last outcome, which says where; when
// none is that, the whole set failed (the store or the bootloader refused
// it) and each envelope says so.
func failed(outcomes []*fwu.Outcome, last *fwu.Outcome, err error) []*fwu.Outcome {
	out := make([]*fwu.Outcome, len(outcomes))
	named := false
	for i, o := range outcomes {
		out[i] = o
		if last != nil && last.Err != nil && last.Verified == o.Verified {
			out[i], named = last, true
		}
	}
	if !named {
		for i, o := range outcomes {
			f := *o
			f.Err = err
			out[i] = &f
		}
	}
	return out
}

// reports encodes the SUIT report of each outcome.
func reports(outcomes []*fwu.Outcome) [][]byte {
	var out [][]byte
	for _, o := range outcomes {
		out = append(out, o.Report(suit.ReportOptions{}).Encode())
	}
	return out
}

// busy marks the update service's ErrBusy as the Agent's, which tells the
// TAM to try again later.
func busy(err error) error {
	if errors.Is(err, fwu.ErrBusy) {
		return fmt.Errorf("%w: %w", teep.ErrBusy, err)
	}
	return err
}
