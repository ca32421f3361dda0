// Package check verifies one device's evidence against files: the
// endorsements provisioning published and the reference values authors
// published (attest/comid's forms), with attest's Verifier, and appraises
// the verified claims against those reference values, component by
// component. It is what `teeup attest verify` runs.
//
// Trust: it trusts the endorsements and reference values it is given, and
// of the evidence only what attest.Verifier verified; a claim is appraised
// only after that.
package check

import (
	"bytes"
	"fmt"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/comid"
)

// Endorsements registers devices with a verifier: each one's ueid and its
// two attestation keys.
func Endorsements(es ...*comid.Endorsement) (attest.Endorsements, error) {
	out := make(attest.Endorsements, 0, len(es))
	for _, e := range es {
		dk, err := e.DeviceKey()
		if err != nil {
			return nil, err
		}
		tk, err := e.TPMKey()
		if err != nil {
			return nil, err
		}
		out = append(out, attest.Endorsement{UEID: e.UEID, AttestationKey: dk, TPMKey: tk})
	}
	return out, nil
}

// Policy is what the appraisal asks beyond the reference values.
type Policy struct {
	// AllowDebug accepts a device whose debug is not disabled.
	AllowDebug bool
}

// Component is the appraisal of one claimed component.
type Component struct {
	Component      string    `json:"component"`
	Kind           string    `json:"kind"`
	SequenceNumber uint64    `json:"sequence_number"`
	Digest         comid.Hex `json:"digest"`
	// Affirmed: a published reference matches it; else Reason says why not.
	Affirmed bool   `json:"affirmed"`
	Reason   string `json:"reason,omitempty"`
	err      error
}

// Err is why the component is not affirmed (a comid.ErrNotReference), or
// nil.
func (c Component) Err() error { return c.err }

// Result is the appraisal of verified evidence.
type Result struct {
	// Trustworthy: the device and every component it claims are affirmed.
	Trustworthy bool        `json:"trustworthy"`
	UEID        comid.Hex   `json:"ueid,omitempty"`
	Nonce       comid.Hex   `json:"nonce,omitempty"`
	BootCount   uint64      `json:"bootcount"`
	Debug       string      `json:"dbgstat,omitempty"`
	Components  []Component `json:"components,omitempty"`
	// Reasons lists, for the device as a whole, what is not affirmed.
	Reasons []string `json:"reasons,omitempty"`
}

// Appraise appraises verified claims against the reference values: every
// component must match a published version, the device's class must be
// the one the reference values are for, and debug must be disabled
// unless the policy allows it.
func Appraise(v *attest.Verified, refs *comid.ReferenceValues, p Policy) *Result {
	c := v.Claims
	r := &Result{Trustworthy: true, UEID: c.UEID, Nonce: c.Nonce, BootCount: c.BootCount, Debug: debugName(c.Debug)}
	if len(refs.Class.OEMID) > 0 && !bytes.Equal(refs.Class.OEMID, c.OEMID) ||
		len(refs.Class.HWModel) > 0 && !bytes.Equal(refs.Class.HWModel, c.HWModel) {
		r.Trustworthy = false
		r.Reasons = append(r.Reasons, fmt.Sprintf("the device's class (oemid %x, hwmodel %x) is not the one the reference values are for", c.OEMID, c.HWModel))
	}
	if c.Debug == attest.DebugEnabled && !p.AllowDebug {
		r.Trustworthy = false
		r.Reasons = append(r.Reasons, "debug is enabled, which the policy forbids")
	}
	for _, m := range c.Components {
		kind := comid.KindImage
		if m.Kind == attest.KindTA {
			kind = comid.KindTA
		}
		err := refs.Match(comid.Claimed{Component: m.Name, Kind: kind, SequenceNumber: m.Sequence, Digest: m.Digest,
			ManifestDigest: m.ManifestDigest, Signer: m.Signer})
		cr := Component{Component: m.Name, Kind: kind, SequenceNumber: m.Sequence, Digest: m.Digest, Affirmed: err == nil, err: err}
		if err != nil {
			cr.Reason = err.Error()
			r.Trustworthy = false
		}
		r.Components = append(r.Components, cr)
	}
	return r
}

func debugName(d attest.Debug) string {
	switch d {
	case attest.DebugEnabled:
		return "enabled"
	case attest.DebugDisabled:
		return "disabled"
	case attest.DebugDisabledSinceBoot:
		return "disabled-since-boot"
	case attest.DebugPermanentDisable:
		return "disabled-permanently"
	case attest.DebugFullPermanentDisable:
		return "disabled-fully-and-permanently"
	}
	return fmt.Sprintf("dbgstat(%d)", d)
}
