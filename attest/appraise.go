package attest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest/comid"
)

// The reasons appraisal marks a claim as not affirming, besides the
// reference-value mismatches of attest/comid (comid.ErrNotReference and
// below). They are not refusals: the evidence verified, the policy found
// it wanting.
var (
	// ErrDebugForbidden: debug is enabled and the policy forbids it.
	ErrDebugForbidden = errors.New("attest: debug enabled where the policy forbids it")
	// ErrHardware: the hardware claims differ from the endorsement.
	ErrHardware = errors.New("attest: hardware differs from its endorsement")
)

// Policy is what an appraisal asks beyond the reference values. Its zero
// value is the strict policy.
type Policy struct {
	// AllowDebugInsecure accepts a device whose debug facilities are
	// enabled (dbgstat 0). Only for development devices.
	AllowDebugInsecure bool
}

// Reason says why one trustworthiness claim is not affirming.
type Reason struct {
	// Claim is the AR4SI claim name (instance-identity, configuration,
	// executables, hardware, ...).
	Claim string `json:"claim"`
	// Value is the value the claim got.
	Value ear.TrustClaim `json:"value"`
	// Component is the component it is about, if any.
	Component string `json:"component,omitempty"`
	// Err is the sentinel (errors.Is ErrDebugForbidden, ErrHardware or a
	// comid mismatch such as comid.ErrDigest), with detail.
	Err error `json:"-"`
	// Detail is Err's text, for the EAR.
	Detail string `json:"detail"`
}

// Appraisal is the outcome of appraising verified evidence.
type Appraisal struct {
	Vector  ear.TrustVector
	Status  ear.TrustTier
	Reasons []Reason
	// Claims are the verified claims appraised.
	Claims *Claims
}

// Trustworthy reports whether every claim is affirming (or none).
func (a *Appraisal) Trustworthy() bool { return a.Status == ear.TrustTierAffirming }

// Appraise runs policy on verified evidence: each component against the
// authors' reference values (comid.ReferenceValues.Match), the hardware
// against the reference values' class and the endorsement, the debug
// status against the policy. It never fails; what does not satisfy is
// marked in the AR4SI vector, with its reason. It reads only what Verify
// verified.
func Appraise(v *Verified, refs *comid.ReferenceValues, pol Policy) *Appraisal {
	a := &Appraisal{Claims: v.Claims}
	a.Vector.InstanceIdentity = ear.TrustworthyInstanceClaim
	a.Vector.Hardware = ear.GenuineHardwareClaim
	c := v.Claims
	for _, want := range []struct{ oemid, model []byte }{{refs.Class.OEMID, refs.Class.HWModel}, {v.Device.OEMID, v.Device.HWModel}} {
		if len(want.oemid) > 0 && !bytes.Equal(c.OEMID, want.oemid) || len(want.model) > 0 && !bytes.Equal(c.HWModel, want.model) {
			a.mark("hardware", &a.Vector.Hardware, ear.UnrecognizedHardwareClaim, "",
				fmt.Errorf("%w: oemid %x hwmodel %x, want %x %x", ErrHardware, c.OEMID, c.HWModel, want.oemid, want.model))
			break
		}
	}
	a.Vector.Configuration = ear.ApprovedConfigClaim
	if v.Claims.Debug == DebugEnabled && !pol.AllowDebugInsecure {
		a.mark("configuration", &a.Vector.Configuration, ear.UnsupportableConfigClaim, "",
			fmt.Errorf("%w: dbgstat %d", ErrDebugForbidden, v.Claims.Debug))
	}
	a.Vector.Executables = ear.ApprovedRuntimeClaim
	for _, m := range v.Claims.Components {
		if value, err := appraiseComponent(m, refs); err != nil {
			a.mark("executables", &a.Vector.Executables, value, m.Name, err)
		}
	}
	status := ear.TrustTierNone
	for _, c := range a.Vector.AsMap() {
		if t := c.GetTier(); t > status {
			status = t
		}
	}
	a.Status = status
	return a
}

// appraiseComponent checks one component against the reference values:
// a version below every published one is contraindicated, any other
// mismatch unrecognized.
func appraiseComponent(m Component, refs *comid.ReferenceValues) (ear.TrustClaim, error) {
	err := refs.Match(comid.Claimed{Component: m.Name, Kind: m.Kind.String(), SequenceNumber: m.Sequence,
		Digest: m.Digest, ManifestDigest: m.ManifestDigest, Signer: m.Signer})
	switch {
	case err == nil:
		return ear.ApprovedRuntimeClaim, nil
	case errors.Is(err, comid.ErrBelowReference):
		return ear.ContraindicatedRuntimeClaim, err
	}
	return ear.UnrecognizedRuntimeClaim, err
}

// mark sets claim to value if value is worse and records the reason.
func (a *Appraisal) mark(name string, claim *ear.TrustClaim, value ear.TrustClaim, component string, err error) {
	if value.GetTier() > claim.GetTier() {
		*claim = value
	}
	a.Reasons = append(a.Reasons, Reason{Claim: name, Value: value, Component: component, Err: err, Detail: err.Error()})
}
