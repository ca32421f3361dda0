package boot

import (
	"fmt"

	"github.com/teeup/teeup/attest/eventlog"
)

// MeasurementPCR is the PCR the bootloader extends.
const MeasurementPCR = eventlog.MeasurementPCR

// Event is one measurement: what was extended into the PCR. The log's
// format and replay belong to attestation (attest/eventlog), which a
// verifier uses without the secure world.
type Event = eventlog.Event

// EventLog is the ordered list of measurements of one boot.
type EventLog = eventlog.Log

// measure extends the PCR with each image's manifest digest and image
// digest, in component order, and returns the log. Each event names its
// component by the SUIT component identifier, as the evidence's claims do.
func (d *Device) measure(images []*Image) (EventLog, error) {
	var log EventLog
	for _, img := range images {
		for _, e := range []Event{
			{PCR: MeasurementPCR, Component: img.Component.ID().String(), Kind: eventlog.KindManifest, Digest: img.ManifestDigest},
			{PCR: MeasurementPCR, Component: img.Component.ID().String(), Kind: eventlog.KindImage, Digest: img.ImageDigest},
		} {
			if err := d.pcr.Extend(e.Digest); err != nil {
				return nil, fmt.Errorf("measure %s %s: %w", e.Component, e.Kind, err)
			}
			log = append(log, e)
		}
	}
	return log, nil
}
