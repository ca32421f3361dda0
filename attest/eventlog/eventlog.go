package eventlog

import (
	"crypto/sha256"
)

// MeasurementPCR is the PCR the bootloader extends.
const MeasurementPCR = 0

// The kinds of event: what of a component was measured.
const (
	KindManifest = "manifest" // the digest of its SUIT manifest
	KindImage    = "image"    // the digest of its image
)

// Event is one measurement: what was extended into the PCR. The JSON form
// is the one the emulated device persists.
type Event struct {
	PCR       int    `cbor:"1,keyasint" json:"pcr"`
	Component string `cbor:"2,keyasint" json:"component"`
	Kind      string `cbor:"3,keyasint" json:"kind"` // KindManifest or KindImage
	Digest    []byte `cbor:"4,keyasint" json:"digest"`
}

// Log is the ordered list of measurements of one boot.
type Log []Event

// Replay computes the PCR value the log leads to from a reset PCR: each
// event extends SHA-256(pcr || digest).
func (l Log) Replay(pcr int) []byte {
	v := make([]byte, sha256.Size)
	for _, e := range l {
		if e.PCR != pcr {
			continue
		}
		h := sha256.New()
		h.Write(v)
		h.Write(e.Digest)
		v = h.Sum(nil)
	}
	return v
}

// PCRs returns the PCRs the log extends, in ascending order.
func (l Log) PCRs() []int {
	var seen [NumPCRs]bool
	for _, e := range l {
		if e.PCR >= 0 && e.PCR < NumPCRs {
			seen[e.PCR] = true
		}
	}
	var pcrs []int
	for p, s := range seen {
		if s {
			pcrs = append(pcrs, p)
		}
	}
	return pcrs
}

// Measured is what the log says of one component: the digests of its
// manifest and image.
type Measured struct {
	ManifestDigest []byte
	ImageDigest    []byte
}

// Components returns the components the log measures, by name. A
// component measured twice, or a kind other than manifest and image, is
// an error: a log of a good boot measures each component once.
func (l Log) Components() (map[string]Measured, error) {
	out := make(map[string]Measured)
	for i, e := range l {
		m := out[e.Component]
		switch e.Kind {
		case KindManifest:
			if m.ManifestDigest != nil {
				return nil, eventError(ErrDuplicate, i, e)
			}
			m.ManifestDigest = e.Digest
		case KindImage:
			if m.ImageDigest != nil {
				return nil, eventError(ErrDuplicate, i, e)
			}
			m.ImageDigest = e.Digest
		default:
			return nil, eventError(ErrMalformed, i, e)
		}
		out[e.Component] = m
	}
	for name, m := range out {
		if m.ManifestDigest == nil || m.ImageDigest == nil {
			return nil, &EventError{Err: ErrIncomplete, Index: -1, Component: name}
		}
	}
	return out, nil
}
