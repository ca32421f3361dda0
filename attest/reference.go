package attest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// HexBytes is a byte string written in JSON as lowercase hex.
type HexBytes []byte

func (h HexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *HexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	*h = d
	return nil
}

// ReferenceValues are what authors publish of their components: for each
// component, the versions they released (digests and signer) and the
// lowest version still good. Each component maps onto a CoMID
// reference-value triple (draft-ietf-rats-corim): Name is the
// environment's class-id (a text class identifier), each Version one
// measurement-map whose measurement-values-map holds svn (Sequence, as an
// exact value), digests ([sha-256, Digest]) and cryptokeys (the signer's
// thumbprint); the manifest digest is a second measurement-map of the
// same environment with mkey "manifest"; MinSequence is a measurement
// whose svn is min-svn. docs/eat-profile.md shows one.
type ReferenceValues struct {
	Components []ReferenceComponent `json:"components"`
}

// ReferenceComponent is the reference values of one component.
type ReferenceComponent struct {
	Name        string             `json:"name"`
	Kind        string             `json:"kind"` // "image" or "ta"
	MinSequence uint64             `json:"min_sequence"`
	Versions    []ReferenceVersion `json:"versions"`
}

// ReferenceVersion is one released version of a component.
type ReferenceVersion struct {
	Sequence       uint64   `json:"sequence"`
	Digest         HexBytes `json:"digest"`
	ManifestDigest HexBytes `json:"manifest_digest"`
	Signer         HexBytes `json:"signer"`
}

// ParseReferenceValues decodes reference values strictly (no unknown
// fields) within MaxReferenceValues bytes.
func ParseReferenceValues(b []byte) (*ReferenceValues, error) {
	var r ReferenceValues
	if err := decodeJSON(b, MaxReferenceValues, &r); err != nil {
		return nil, fmt.Errorf("attest: reference values: %w", err)
	}
	for _, c := range r.Components {
		if c.Name == "" || (c.Kind != KindImage.String() && c.Kind != KindTA.String()) {
			return nil, fmt.Errorf("attest: reference values: component %q of kind %q", c.Name, c.Kind)
		}
	}
	return &r, nil
}

// component returns the reference values of the component called name.
func (r *ReferenceValues) component(name string) *ReferenceComponent {
	for i := range r.Components {
		if r.Components[i].Name == name {
			return &r.Components[i]
		}
	}
	return nil
}

// decodeJSON decodes one JSON value of at most limit bytes, refusing
// unknown fields and trailing data.
func decodeJSON(b []byte, limit int, v any) error {
	if len(b) > limit {
		return fmt.Errorf("%d bytes, limit %d", len(b), limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
