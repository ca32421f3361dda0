package teepsrv

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// The keys of a tc-list entry (system-property-claims) the TAM reads.
const (
	claimComponentID = 0
	claimImageDigest = 3
)

// installedTCs reads a QueryResponse's tc-list: each entry's component
// identifier, sequence number (teep.ClaimSequenceNumber; 0 when the Agent
// does not say it) and image digest. Other claims are ignored.
func installedTCs(list []cbor.RawMessage) ([]store.InstalledTC, error) {
	tcs := make([]store.InstalledTC, 0, len(list))
	for i, raw := range list {
		var claims map[int64]cbor.RawMessage
		if err := decMode.Unmarshal(raw, &claims); err != nil || len(claims) > maxTCClaims {
			return nil, fmt.Errorf("%w: tc-list entry %d is not a claims map", ErrMalformed, i)
		}
		var tc store.InstalledTC
		var id [][]byte
		if err := decMode.Unmarshal(claims[claimComponentID], &id); err != nil || len(id) == 0 || len(id) > teep.MaxComponentIDParts {
			return nil, fmt.Errorf("%w: tc-list entry %d: no component identifier", ErrMalformed, i)
		}
		tc.Component = suit.ComponentID(id)
		if raw, ok := claims[teep.ClaimSequenceNumber]; ok {
			if err := decMode.Unmarshal(raw, &tc.SequenceNumber); err != nil {
				return nil, fmt.Errorf("%w: tc-list entry %d: sequence number", ErrMalformed, i)
			}
		}
		if raw, ok := claims[claimImageDigest]; ok {
			if err := decMode.Unmarshal(raw, &tc.Digest); err != nil || len(tc.Digest) > maxClaimSize {
				return nil, fmt.Errorf("%w: tc-list entry %d: image digest", ErrMalformed, i)
			}
		}
		tcs = append(tcs, tc)
	}
	// What the store would refuse to record is refused here, before the
	// session is spent.
	if err := store.ValidateTCs(tcs); err != nil {
		return nil, fmt.Errorf("%w: tc-list: %w", ErrMalformed, err)
	}
	return tcs, nil
}

// installed is what a device runs, by component (in the text form of
// its identifier): the higher sequence number of what its Agent listed
// and what its verified evidence claims (the booted images, which the
// Agent's TA store may not list).
func installed(tcs []store.InstalledTC, claims *attest.Claims) map[string]uint64 {
	have := map[string]uint64{}
	put := func(name string, seq uint64) {
		if old, ok := have[name]; !ok || seq > old {
			have[name] = seq
		}
	}
	for _, tc := range tcs {
		put(tc.Component.String(), tc.SequenceNumber)
	}
	if claims != nil {
		for _, c := range claims.Components {
			put(c.Name, c.Sequence)
		}
	}
	return have
}

// decide is what a device that runs have must install next, of the
// envelopes latest published for it: those with a component it lacks or
// runs at a lower sequence number. TAs and personalization go first,
// TAs before the personalization that may configure them, a TA's own
// personalization in the Update after the TA's (withoutTheirTA); a firmware
// pair only in an Update of its own, once no TA is left (the secure
// world keeps firmware and TA install sets apart). At most
// MaxUpdateManifests; the rest wait for the next session.
//
// A personalization envelope the device reported installed (delivered:
// the digests of its recent Success reports) is not sent again even when
// its tc-list does not list the personalization component: an Agent need
// not list data as a component.
//
// A device that refuses an envelope must not be sent it forever (a fault
// halts, it never loops): an envelope the device's recent answers refused
// goes alone in its Update, so that another envelope's fault cannot hold
// it back, and after MaxRefusals refusals it is held back for good, as is
// a personalization signed for an older TA than the device runs (its TA
// store would refuse it as a rollback; the TAM keeps no plaintext to sign
// it again). Each held-back envelope comes back in held with its reason,
// for the device's record.
func decide(latest []store.Envelope, have map[string]uint64, past history) (send []store.Envelope, held []heldBack) {
	var tas, personal, firmware []store.Envelope
	seen := map[string]bool{}
	for _, e := range latest {
		if seen[string(e.Digest)] || !needed(e, have) {
			continue
		}
		if e.Kind == store.PersonalizationEnvelope && past.delivered[string(e.Digest)] {
			continue
		}
		seen[string(e.Digest)] = true
		if reason := holdBack(e, have, past); reason != "" {
			held = append(held, heldBack{e, reason})
			continue
		}
		switch e.Kind {
		case store.TAEnvelope:
			tas = append(tas, e)
		case store.PersonalizationEnvelope:
			personal = append(personal, e)
		case store.FirmwareEnvelope:
			firmware = append(firmware, e)
		}
	}
	send = append(sorted(tas), sorted(withoutTheirTA(personal, tas))...)
	if len(send) == 0 {
		send = sorted(firmware)
	}
	if i := slices.IndexFunc(send, func(e store.Envelope) bool { return past.refused[string(e.Digest)] > 0 }); i >= 0 {
		send = send[i : i+1]
	}
	if len(send) > MaxUpdateManifests {
		send = send[:MaxUpdateManifests]
	}
	return send, held
}

// heldBack is an envelope decide will not send, and why.
type heldBack struct {
	envelope store.Envelope
	reason   string
}

// holdBack is why e must not be sent to a device that runs have, or "".
func holdBack(e store.Envelope, have map[string]uint64, past history) string {
	if n := past.refused[string(e.Digest)]; n >= MaxRefusals {
		return fmt.Sprintf("envelope %x (%s, sequence %d) refused by the device %d times: not sent again; publish a new one",
			e.Digest, first(e), e.SequenceNumber, n)
	}
	if e.Kind != store.PersonalizationEnvelope {
		return ""
	}
	for _, c := range e.Components {
		if owner, ok := ta.Of(c); ok {
			if seq := have[owner.String()]; seq > e.SequenceNumber {
				return fmt.Sprintf("personalization %x of %s is signed for its sequence %d but the device runs %d: personalize it again",
					e.Digest, owner, e.SequenceNumber, seq)
			}
		}
	}
	return ""
}

// history is what a device's recent answers say of the envelopes sent
// to it: those a Success carried, and how often an Error carried each
// since.
type history struct {
	delivered map[string]bool
	refused   map[string]int
}

// historyOf reads reports, newest first: an envelope's refusals count
// until its last Success.
func historyOf(reports []store.Report) history {
	h := history{delivered: map[string]bool{}, refused: map[string]int{}}
	for _, r := range reports {
		for _, d := range r.Envelopes {
			switch {
			case r.Success:
				h.delivered[string(d)] = true
			case !h.delivered[string(d)]:
				h.refused[string(d)]++
			}
		}
	}
	return h
}

// withoutTheirTA is personal less the personalization of a TA in tas:
// the secure world's install set holds one envelope per TA (its records
// are per TA), so a TA's personalization waits for the Update after the
// one that installs the TA.
func withoutTheirTA(personal, tas []store.Envelope) []store.Envelope {
	var out []store.Envelope
	for _, p := range personal {
		if !slices.ContainsFunc(tas, func(t store.Envelope) bool { return sameTA(p, t) }) {
			out = append(out, p)
		}
	}
	return out
}

// sameTA reports whether envelopes a and b touch a common TA (secure/ta's
// identity: a TA, its personalization and its staging belong to it).
func sameTA(a, b store.Envelope) bool {
	for _, ca := range a.Components {
		ta1, ok := ta.Of(ca)
		if !ok {
			continue
		}
		for _, cb := range b.Components {
			if ta2, ok := ta.Of(cb); ok && ta1.Equal(ta2) {
				return true
			}
		}
	}
	return false
}

// needed reports whether e installs a component have lacks or runs at a
// lower sequence number.
func needed(e store.Envelope, have map[string]uint64) bool {
	for _, c := range e.Components {
		if seq, ok := have[c.String()]; !ok || seq < e.SequenceNumber {
			return true
		}
	}
	return false
}

// sorted orders envelopes by their first component, then digest, so
// that an Update is the same for the same state.
func sorted(es []store.Envelope) []store.Envelope {
	slices.SortFunc(es, func(a, b store.Envelope) int {
		return cmp.Or(cmp.Compare(first(a), first(b)), bytes.Compare(a.Digest, b.Digest))
	})
	return es
}

func first(e store.Envelope) string {
	if len(e.Components) == 0 {
		return ""
	}
	return e.Components[0].String()
}

// withdrawals is what the TAs withdrawn (tam/catalog's Withdraw) mean for
// one device in one session.
type withdrawals struct {
	// tas are the TAs withdrawn, by the text of their identifiers.
	tas map[string]bool
	// unlink are the withdrawn TAs its tc-list lists, in its order, at
	// most teep.MaxTCs (the tc-list's own bound): its Update's
	// unneeded-manifest-list.
	unlink []teep.ComponentID
	// held is why unlink is held back, when the device refused it
	// MaxRefusals times.
	held []heldBack
}

// withdrawalsFor reads the withdrawals for a device that reported tcs,
// whose recent answers (newest first) are reports. Only a TA is ever
// unlinked: a record of another component (which the catalog never makes)
// is ignored, and the secure world would refuse it.
//
// A device whose Agent cannot unlink must not be sent the unlink forever,
// with nothing else, at every session (a fault halts, it never loops):
// after MaxRefusals Errors since its last Success that answered Updates
// without envelopes (the unlinks, which go alone; an Error to a
// QueryRequest, rare, counts too) the unlink is held back with its reason,
// and the rest is delivered as if no TA were to be unlinked. The next
// Success resets the count: the unlink is tried again then.
func withdrawalsFor(ws []store.Withdrawal, tcs []store.InstalledTC, reports []store.Report) withdrawals {
	w := withdrawals{tas: map[string]bool{}}
	for _, x := range ws {
		if ta.IsTA(x.Component) {
			w.tas[x.Component.String()] = true
		}
	}
	for _, tc := range tcs {
		if w.tas[tc.Component.String()] && len(w.unlink) < teep.MaxTCs &&
			!slices.ContainsFunc(w.unlink, func(c teep.ComponentID) bool { return suit.ComponentID(c).Equal(tc.Component) }) {
			w.unlink = append(w.unlink, teep.ComponentID(tc.Component))
		}
	}
	if len(w.unlink) == 0 {
		return w
	}
	refused, last := 0, ""
	for _, r := range reports {
		if r.Success {
			break
		}
		if len(r.Envelopes) == 0 {
			if refused == 0 {
				last = fmt.Sprintf("%s: %s", teep.ErrCode(r.ErrCode), r.ErrMsg)
			}
			refused++
		}
	}
	if refused >= MaxRefusals {
		w.held = []heldBack{{reason: fmt.Sprintf("unlink of withdrawn %s refused by the device %d times (last: %s): held back until its next Success",
			suit.ComponentID(w.unlink[0]), refused, last)}}
		w.unlink = nil
	}
	return w
}

// deliverable is es less every envelope that touches a withdrawn TA (the
// TA itself, its personalization, its staging): a withdrawn TA is neither
// installed nor updated nor personalized, whether LatestFor or a rollout
// offers it. While the device has TAs to unlink it is nothing: the unlink
// goes alone in its Update, so that an envelope's fault cannot hold the
// unlink back nor an unlink's fault count as the envelope's refusal, and
// the rest comes in the next session (the Success wakes its long poll).
func (w withdrawals) deliverable(es []store.Envelope) []store.Envelope {
	if len(w.unlink) > 0 {
		return nil
	}
	var out []store.Envelope
	for _, e := range es {
		if !slices.ContainsFunc(e.Components, w.touches) {
			out = append(out, e)
		}
	}
	return out
}

// touches reports whether component c belongs to a withdrawn TA.
func (w withdrawals) touches(c suit.ComponentID) bool {
	owner, ok := ta.Of(c)
	return ok && w.tas[owner.String()]
}
