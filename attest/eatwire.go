package attest

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/eat"
	"github.com/veraison/swid"
)

// ContentFormatMeasuredComponent is the content format of each entry of
// the measurements claim: a measured-component
// (draft-ietf-rats-eat-measured-component), CBOR encoded. IANA has not
// assigned its CoAP content-format yet; 600 is the value the draft asks
// for (TBD1) and the one the published teep-wasm-demo evidence uses
// (testdata/teep-wasm-demo-evidence).
const ContentFormatMeasuredComponent = 600

// claimComponents is the private claim (a key of the CWT private-use
// range, below -65536) that says, for each measurement, what no
// registered claim holds: the component's kind and the digest of the
// manifest it was installed with.
const claimComponents = -65537

// eatPayload is the EAT's claims set as it travels: the registered
// claims of RFC 9711, as veraison/eat encodes them, and our one private
// claim. It may grow only by optional claims under a new profile
// version; this decoder refuses claims it does not know, so an EAT never
// says more than a verifier reads.
type eatPayload struct {
	eat.Eat
	Components *[]componentDetail `cbor:"-65537,keyasint,omitempty"`
}

// componentDetail is one entry of the private claim, in the order of the
// measurements: {1: name, 2: kind, 3: manifest digest}.
type componentDetail struct {
	Name           string `cbor:"1,keyasint"`
	Kind           Kind   `cbor:"2,keyasint"`
	ManifestDigest []byte `cbor:"3,keyasint"`
}

// encodePayload maps claims onto the EAT and encodes them
// deterministically.
func encodePayload(c *Claims) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var p eatPayload
	p.Nonce = &eat.Nonce{}
	if err := p.Nonce.Add(c.Nonce); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	ueid := eat.UEID(bytes.Clone(c.UEID))
	p.UEID = &ueid
	oemid, model := bytes.Clone(c.OEMID), bytes.Clone(c.HWModel)
	p.OemID, p.HardwareModel = &oemid, &model
	p.HardwareVersion = &eat.Version{Version: c.HWVersion}
	debug := c.Debug
	p.DebugStatus = &debug
	profile, err := eat.NewProfile(Profile)
	if err != nil {
		return nil, err
	}
	p.Profile = profile
	boots := uint(c.BootCount)
	p.BootCount = &boots
	if len(c.Components) > 0 {
		ms := make([]eat.Measurement, len(c.Components))
		ds := make([]componentDetail, len(c.Components))
		for i, m := range c.Components {
			mc, err := encMode.Marshal(measuredComponent(m))
			if err != nil {
				return nil, err
			}
			ms[i] = eat.Measurement{Type: ContentFormatMeasuredComponent, Format: mc}
			ds[i] = componentDetail{Name: m.Name, Kind: m.Kind, ManifestDigest: m.ManifestDigest}
		}
		p.Measurements, p.Components = &ms, &ds
	}
	return encMode.Marshal(p)
}

// measuredComponent is a component as a measured-component: its name,
// its sequence number as the version (multipartnumeric), its image
// digest and its signer.
func measuredComponent(m Component) eat.MeasuredComponent {
	var scheme swid.VersionScheme
	if err := scheme.SetCode(swid.VersionSchemeMultipartNumeric); err != nil {
		panic(err) // a registered code
	}
	signers := [][]byte{m.Signer}
	return eat.MeasuredComponent{
		Id: eat.ComponentID{Name: m.Name, Version: &eat.Version{
			Version: strconv.FormatUint(m.Sequence, 10), Scheme: &scheme}},
		Measurement: &swid.HashEntry{HashAlgID: swid.Sha256, HashValue: m.Digest},
		Signers:     &signers,
	}
}

// decodePayload decodes an EAT's claims set strictly and maps it back
// onto Claims. It does not verify anything.
func decodePayload(b []byte) (*Claims, error) {
	var p eatPayload
	if err := decMode.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: EAT claims: %w", ErrMalformed, err)
	}
	missing := func(name string) error { return fmt.Errorf("%w: EAT claim %s missing", ErrMalformed, name) }
	switch {
	case p.Nonce == nil || p.Nonce.Len() == 0:
		return nil, fmt.Errorf("%w: %w", ErrNonce, missing("eat_nonce"))
	case p.Nonce.Len() != 1:
		return nil, fmt.Errorf("%w: %d nonces, the profile has one", ErrMalformed, p.Nonce.Len())
	case p.UEID == nil:
		return nil, missing("ueid")
	case p.OemID == nil:
		return nil, missing("oemid")
	case p.HardwareModel == nil:
		return nil, missing("hwmodel")
	case p.HardwareVersion == nil:
		return nil, missing("hwversion")
	case p.HardwareVersion.Scheme != nil:
		return nil, fmt.Errorf("%w: hwversion with a version scheme", ErrMalformed)
	case p.DebugStatus == nil:
		return nil, missing("dbgstat")
	case p.Profile == nil:
		return nil, missing("eat_profile")
	case p.BootCount == nil:
		return nil, missing("bootcount")
	}
	if prof, err := p.Profile.Get(); err != nil || prof != Profile {
		return nil, fmt.Errorf("%w: eat_profile %q, want %q", ErrMalformed, prof, Profile)
	}
	c := &Claims{
		Nonce:     p.Nonce.GetI(0),
		UEID:      []byte(*p.UEID),
		OEMID:     *p.OemID,
		HWModel:   *p.HardwareModel,
		HWVersion: p.HardwareVersion.Version,
		Debug:     *p.DebugStatus,
		BootCount: uint64(*p.BootCount),
	}
	var ms []eat.Measurement
	var ds []componentDetail
	if p.Measurements != nil {
		ms = *p.Measurements
	}
	if p.Components != nil {
		ds = *p.Components
	}
	if len(ms) != len(ds) {
		return nil, fmt.Errorf("%w: %d measurements but %d component details", ErrMalformed, len(ms), len(ds))
	}
	if len(ms) > MaxComponents {
		return nil, fmt.Errorf("%w: %d components, limit %d", ErrMalformed, len(ms), MaxComponents)
	}
	for i, m := range ms {
		comp, err := decodeMeasurement(m, ds[i])
		if err != nil {
			return nil, fmt.Errorf("measurement %d: %w", i, err)
		}
		c.Components = append(c.Components, comp)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeMeasurement(m eat.Measurement, d componentDetail) (Component, error) {
	if m.Type != ContentFormatMeasuredComponent {
		return Component{}, fmt.Errorf("%w: content format %d, want %d", ErrMalformed, m.Type, ContentFormatMeasuredComponent)
	}
	var mc eat.MeasuredComponent
	if err := decMode.Unmarshal(m.Format, &mc); err != nil {
		return Component{}, fmt.Errorf("%w: measured-component: %w", ErrMalformed, err)
	}
	switch {
	case mc.Id.Version == nil || mc.Id.Version.Scheme == nil:
		return Component{}, fmt.Errorf("%w: %s: no version", ErrMalformed, mc.Id.Name)
	case mc.Measurement == nil || mc.Measurement.HashAlgID != swid.Sha256:
		return Component{}, fmt.Errorf("%w: %s: no SHA-256 measurement", ErrMalformed, mc.Id.Name)
	case mc.Signers == nil || len(*mc.Signers) != 1:
		return Component{}, fmt.Errorf("%w: %s: the profile has one signer", ErrMalformed, mc.Id.Name)
	case mc.Flags != nil || mc.RawMeasurement != nil:
		return Component{}, fmt.Errorf("%w: %s: flags or raw measurement", ErrMalformed, mc.Id.Name)
	case mc.Id.Name != d.Name:
		return Component{}, fmt.Errorf("%w: measurement of %s, detail of %s", ErrMalformed, mc.Id.Name, d.Name)
	}
	if code, ok := schemeCode(mc.Id.Version.Scheme); !ok || code != swid.VersionSchemeMultipartNumeric {
		return Component{}, fmt.Errorf("%w: %s: version scheme %v", ErrMalformed, mc.Id.Name, mc.Id.Version.Scheme)
	}
	seq, err := strconv.ParseUint(mc.Id.Version.Version, 10, 64)
	if err != nil || strconv.FormatUint(seq, 10) != mc.Id.Version.Version {
		return Component{}, fmt.Errorf("%w: %s: version %q is not a sequence number", ErrMalformed, mc.Id.Name, mc.Id.Version.Version)
	}
	return Component{
		Name:           mc.Id.Name,
		Kind:           d.Kind,
		Digest:         mc.Measurement.HashValue,
		ManifestDigest: d.ManifestDigest,
		Sequence:       seq,
		Signer:         (*mc.Signers)[0],
	}, nil
}

// schemeCode reads a version scheme's integer code.
func schemeCode(s *swid.VersionScheme) (int64, bool) {
	b, err := s.MarshalCBOR()
	if err != nil {
		return 0, false
	}
	var code int64
	if err := cbor.Unmarshal(b, &code); err != nil {
		return 0, false
	}
	return code, true
}
