package boot

import (
	"crypto/sha256"
	"fmt"
)

// MeasurementPCR is the PCR the bootloader extends.
const MeasurementPCR = 0

// Event is one measurement: what was extended into the PCR.
type Event struct {
	PCR       int    `json:"pcr"`
	Component string `json:"component"`
	Kind      string `json:"kind"` // "manifest" or "image"
	Digest    []byte `json:"digest"`
}

// EventLog is the ordered list of measurements of one boot.
type EventLog []Event

// Replay computes the PCR value the log leads to from a reset PCR: each
// event extends SHA-256(pcr || digest).
func (l EventLog) Replay(pcr int) []byte {
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

// measure extends the PCR with each image's manifest digest and image
// digest, in component order, and returns the log.
func (d *Device) measure(images []*Image) (EventLog, error) {
	var log EventLog
	for _, img := range images {
		for _, e := range []Event{
			{PCR: MeasurementPCR, Component: img.Component.String(), Kind: "manifest", Digest: img.ManifestDigest},
			{PCR: MeasurementPCR, Component: img.Component.String(), Kind: "image", Digest: img.ImageDigest},
		} {
			if err := d.pcr.Extend(e.Digest); err != nil {
				return nil, fmt.Errorf("measure %s %s: %w", e.Component, e.Kind, err)
			}
			log = append(log, e)
		}
	}
	return log, nil
}
