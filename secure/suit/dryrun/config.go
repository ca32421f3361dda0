package dryrun

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teeup/teeup/secure/suit"
)

// Config is the JSON description of a dry-run device (DEVICE.json).
//
//	{"vendor-ids": ["fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"],
//	 "class-ids": ["1492af14-2569-5e48-bf42-9b2d51f2ab45"],
//	 "fixed": true,
//	 "time": "2026-07-01T12:00:00Z", "battery-mwh": 900, "approve-updates": true,
//	 "components": [{"id": ["00"], "slot": 1, "sequence-number": 3,
//	                 "image-file": "current.bin", "version": [1, 2, 0]}]}
//
// Component ID parts are hex. An image is given as a file (relative to the
// JSON file) or, for a device whose image is known only by its
// measurement, as image-digest (SHA-256, hex) and image-size.
type Config struct {
	VendorIDs                     []string          `json:"vendor-ids"`
	ClassIDs                      []string          `json:"class-ids"`
	DeviceIDs                     []string          `json:"device-ids"`
	Fixed                         bool              `json:"fixed"`
	Components                    []ComponentConfig `json:"components"`
	SimulateMissingPayloadsUnsafe bool              `json:"simulate-missing-payloads"`
	// Time (RFC 3339), BatteryMWh and ApproveUpdates feed the
	// update-management conditions; absent, those conditions fail.
	Time           string  `json:"time"`
	BatteryMWh     *uint64 `json:"battery-mwh"`
	ApproveUpdates *bool   `json:"approve-updates"`
}

// ComponentConfig is one component of a Config.
type ComponentConfig struct {
	ID             []string `json:"id"`
	Slot           uint64   `json:"slot"`
	SequenceNumber uint64   `json:"sequence-number"`
	ImageFile      string   `json:"image-file"`
	ImageDigest    string   `json:"image-digest"`
	ImageSize      uint64   `json:"image-size"`
	Version        []int64  `json:"version"`
}

// LoadConfig reads a DEVICE.json and builds the device it describes.
func LoadConfig(path string) (*Device, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &Device{Fixed: c.Fixed, SimulateMissingPayloadsUnsafe: c.SimulateMissingPayloadsUnsafe, BatteryMWh: c.BatteryMWh}
	if c.Time != "" {
		if d.Time, err = time.Parse(time.RFC3339, c.Time); err != nil {
			return nil, fmt.Errorf("%s: time: %w", path, err)
		}
	}
	if c.ApproveUpdates != nil {
		approve := *c.ApproveUpdates
		d.Approve = func(int64) bool { return approve }
	}
	for _, list := range []struct {
		in  []string
		out *[][]byte
	}{{c.VendorIDs, &d.VendorIDs}, {c.ClassIDs, &d.ClassIDs}, {c.DeviceIDs, &d.DeviceIDs}} {
		for _, s := range list.in {
			id, err := ParseUUID(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			*list.out = append(*list.out, id)
		}
	}
	for _, cc := range c.Components {
		id, err := ParseComponentID(cc.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		comp := &Component{ID: id, Slot: cc.Slot, SequenceNumber: cc.SequenceNumber, Version: cc.Version}
		switch {
		case cc.ImageFile != "" && cc.ImageDigest != "":
			return nil, fmt.Errorf("%s: component %s has both image-file and image-digest", path, id)
		case cc.ImageFile != "":
			f := cc.ImageFile
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(path), f)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			comp.Image = &Image{Data: data}
		case cc.ImageDigest != "":
			sum, err := hex.DecodeString(cc.ImageDigest)
			if err != nil || len(sum) != 32 {
				return nil, fmt.Errorf("%s: component %s: image-digest must be 32 bytes of hex", path, id)
			}
			comp.Image = &Image{Simulated: true, Digest: suit.Digest{Alg: suit.AlgSHA256, Bytes: sum}, Size: cc.ImageSize}
		}
		d.Components = append(d.Components, comp)
	}
	return d, nil
}

// ParseComponentID reads a component identifier given as parts, each hex
// or text in single quotes.
func ParseComponentID(parts []string) (suit.ComponentID, error) {
	id := make(suit.ComponentID, len(parts))
	for i, p := range parts {
		if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
			id[i] = []byte(p[1 : len(p)-1]) // text, as ComponentID.String writes it
			continue
		}
		b, err := hex.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("component ID part %q is not hex", p)
		}
		id[i] = b
	}
	return id, nil
}

// ParseUUID reads a UUID in its text form or as 32 hex digits.
func ParseUUID(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, fmt.Errorf("%q is not a UUID", s)
	}
	return b, nil
}
