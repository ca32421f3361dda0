package teepsrv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// EvidenceFormat is the attestation-payload-format of the evidence the
// TAM appraises: attest's wire form, as Veraison's challenge-response API
// names it (attest/challenge). An Agent that names no format is read as
// sending it.
const EvidenceFormat = challenge.EvidenceMediaType

// earOptions say who made the attestation results the TAM records.
var earOptions = attest.ResultOptions{Build: "teeup tam", Developer: "https://github.com/teeup/teeup"}

// appraise appraises the evidence of a QueryResponse in the background-
// check model: attest verifies it against the endorsement registered for
// the device that signed the message, bound to the session's challenge
// (used once), and appraises what verified against the reference values
// of the device's factory images and of every published envelope. The
// appraisal is nil when the evidence was missing or refused; the
// attestation to record says why either way. An error is a fault of the
// TAM, not of the evidence.
func (s *Server) appraise(ctx context.Context, dev store.Device, sess store.Session, m *teep.QueryResponse) (store.Attestation, *attest.Appraisal, error) {
	now := s.cfg.Now()
	opts := earOptions
	opts.Now = s.cfg.Now
	att := store.Attestation{Time: now, Status: ear.TrustTierNone.String()}
	none := func(reason string) (store.Attestation, *attest.Appraisal, error) {
		att.Reason = clipReason(reason)
		return att, nil, nil
	}
	switch f := m.AttestationPayloadFormat; {
	case len(m.AttestationPayload) == 0:
		return none("no evidence in the QueryResponse")
	case f != "" && f != EvidenceFormat:
		return none(fmt.Sprintf("evidence of format %q, the TAM appraises %s", f, EvidenceFormat))
	}
	end, err := endorsementOf(dev)
	if err != nil {
		return none(err.Error())
	}
	refs, err := s.references(ctx, dev)
	if err != nil {
		return store.Attestation{}, nil, err
	}
	nonces := &attest.NonceStore{TTL: sess.Expires.Sub(now), Now: s.cfg.Now}
	if err := nonces.Register(sess.Challenge); err != nil {
		return none("the session's challenge: " + err.Error())
	}
	verifier := &attest.Verifier{Endorsements: attest.Endorsements{end}, Nonces: nonces}
	var v *attest.Verified
	ev, err := attest.DecodeEvidence(m.AttestationPayload)
	if err == nil {
		v, err = verifier.Verify(ev)
	}
	switch {
	case errors.Is(err, attest.ErrRejected):
		att.Status, att.Reason = ear.TrustTierContraindicated.String(), clipReason(err.Error())
		if att.EAR, err = attest.RefusalEAR(err, s.cfg.Key, opts); err != nil {
			return store.Attestation{}, nil, fmt.Errorf("teepsrv: %w", err)
		}
		return att, nil, nil
	case err != nil:
		return store.Attestation{}, nil, fmt.Errorf("teepsrv: verify evidence of %s: %w", dev.ID, err)
	}
	a := attest.Appraise(v, refs, s.cfg.Policy)
	reasons := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		reasons[i] = r.Detail
	}
	att.Status, att.Reason = a.Status.String(), clipReason(strings.Join(reasons, "; "))
	if att.EAR, err = a.EAR(s.cfg.Key, opts); err != nil {
		return store.Attestation{}, nil, fmt.Errorf("teepsrv: %w", err)
	}
	return att, a, nil
}

// endorsementOf is the registered endorsement of dev, as attest's
// verifier takes it.
func endorsementOf(dev store.Device) (attest.Endorsement, error) {
	e, err := comid.DecodeEndorsement(dev.Endorsement)
	if err != nil {
		return attest.Endorsement{}, fmt.Errorf("the registered endorsement: %w", err)
	}
	dk, err := e.DeviceKey()
	if err != nil {
		return attest.Endorsement{}, fmt.Errorf("the registered endorsement: %w", err)
	}
	tk, err := e.TPMKey()
	if err != nil {
		return attest.Endorsement{}, fmt.Errorf("the registered endorsement: %w", err)
	}
	return attest.Endorsement{UEID: e.UEID, OEMID: e.Class.OEMID, HWModel: e.Class.HWModel, AttestationKey: dk, TPMKey: tk}, nil
}

// references are the reference values a device is appraised against: its
// factory images' and those of every envelope published, every version
// (a device that runs a published version is running what an author
// published, even when a newer one waits for it).
func (s *Server) references(ctx context.Context, dev store.Device) (*comid.ReferenceValues, error) {
	refs := &comid.ReferenceValues{}
	add := func(raw []byte, what string) *comid.ReferenceValues {
		rv, err := comid.DecodeReferenceValues(raw)
		if err != nil {
			// Stored by the TAM after its own checks: a record that no
			// longer decodes counts for nothing, and is said.
			s.log.Warn("reference values do not decode", "of", what, "err", err)
			return nil
		}
		refs.Add(rv.Components...)
		return rv
	}
	// The hardware is the device's own: the class of its factory
	// reference (and its endorsement's, which Appraise checks too), never
	// the class an author wrote in a TA's manifest.
	if dev.Reference != nil {
		if rv := add(dev.Reference, "device "+dev.ID); rv != nil {
			refs.Class = rv.Class
		}
	}
	envelopes, err := s.cfg.Store.ListEnvelopes(ctx)
	if err != nil {
		return nil, fmt.Errorf("teepsrv: envelopes: %w", err)
	}
	for _, e := range envelopes {
		if e.Reference != nil && (e.Device == "" || e.Device == dev.ID) {
			add(e.Reference, fmt.Sprintf("envelope %x", e.Digest))
		}
	}
	return refs, nil
}

// clipReason fits a reason into maxReasonSize bytes.
func clipReason(s string) string {
	if len(s) <= maxReasonSize {
		return s
	}
	return strings.ToValidUTF8(s[:maxReasonSize], "")
}
