package attest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/veraison/ear"
)

// The reasons appraisal marks a claim as not affirming. They are not
// refusals: the evidence verified, the policy found it wanting.
var (
	// ErrUnpublished: no author published this component, or this digest,
	// manifest digest or signer for it.
	ErrUnpublished = errors.New("attest: not published by an author")
	// ErrBelowReference: the component's sequence number is below the
	// lowest the authors still support.
	ErrBelowReference = errors.New("attest: below the reference version")
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
	// Err is the sentinel (errors.Is ErrUnpublished, ...), with detail.
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

// Appraise runs policy on verified evidence: the components against the
// authors' reference values, the hardware against the endorsement, the
// debug status against the policy. It never fails; what does not satisfy
// is marked, with its reason. It reads only what Verify verified.
func Appraise(v *Verified, ref *ReferenceValues, pol Policy) *Appraisal {
	a := &Appraisal{Claims: v.Claims}
	a.Vector.InstanceIdentity = ear.TrustworthyInstanceClaim
	a.Vector.Hardware = ear.GenuineHardwareClaim
	if !bytes.Equal(v.Claims.OEMID, v.Device.OEMID) || !bytes.Equal(v.Claims.HWModel, v.Device.HWModel) {
		a.mark("hardware", &a.Vector.Hardware, ear.UnrecognizedHardwareClaim, "",
			fmt.Errorf("%w: oemid %x hwmodel %q, endorsed %x %q", ErrHardware, v.Claims.OEMID, v.Claims.HWModel, v.Device.OEMID, v.Device.HWModel))
	}
	a.Vector.Configuration = ear.ApprovedConfigClaim
	if v.Claims.Debug == DebugEnabled && !pol.AllowDebugInsecure {
		a.mark("configuration", &a.Vector.Configuration, ear.UnsupportableConfigClaim, "",
			fmt.Errorf("%w: dbgstat %d", ErrDebugForbidden, v.Claims.Debug))
	}
	a.Vector.Executables = ear.ApprovedRuntimeClaim
	for _, m := range v.Claims.Components {
		if value, err := appraiseComponent(m, ref); err != nil {
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

// appraiseComponent checks one component against the reference values.
func appraiseComponent(m Component, ref *ReferenceValues) (ear.TrustClaim, error) {
	rc := ref.component(m.Name)
	if rc == nil || rc.Kind != m.Kind.String() {
		return ear.UnrecognizedRuntimeClaim, fmt.Errorf("%w: no %s %s", ErrUnpublished, m.Kind, m.Name)
	}
	if m.Sequence < rc.MinSequence {
		return ear.ContraindicatedRuntimeClaim, fmt.Errorf("%w: sequence %d, lowest supported %d", ErrBelowReference, m.Sequence, rc.MinSequence)
	}
	for _, rv := range rc.Versions {
		if rv.Sequence != m.Sequence {
			continue
		}
		switch {
		case !bytes.Equal(rv.Digest, m.Digest):
			return ear.UnrecognizedRuntimeClaim, fmt.Errorf("%w: digest %x of sequence %d", ErrUnpublished, m.Digest, m.Sequence)
		case !bytes.Equal(rv.ManifestDigest, m.ManifestDigest):
			return ear.UnrecognizedRuntimeClaim, fmt.Errorf("%w: manifest digest %x of sequence %d", ErrUnpublished, m.ManifestDigest, m.Sequence)
		case !bytes.Equal(rv.Signer, m.Signer):
			return ear.UnrecognizedRuntimeClaim, fmt.Errorf("%w: signer %x of sequence %d", ErrUnpublished, m.Signer, m.Sequence)
		}
		return ear.ApprovedRuntimeClaim, nil
	}
	return ear.UnrecognizedRuntimeClaim, fmt.Errorf("%w: sequence %d (digest %x)", ErrUnpublished, m.Sequence, m.Digest)
}

// mark sets claim to value if value is worse and records the reason.
func (a *Appraisal) mark(name string, claim *ear.TrustClaim, value ear.TrustClaim, component string, err error) {
	if value.GetTier() > claim.GetTier() {
		*claim = value
	}
	a.Reasons = append(a.Reasons, Reason{Claim: name, Value: value, Component: component, Err: err, Detail: err.Error()})
}
