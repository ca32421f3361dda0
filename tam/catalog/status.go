package catalog

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// DeviceStatus is what the TAM knows of one device (the API's JSON).
type DeviceStatus struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Registered time.Time `json:"registered"`
	// LastSeen is zero until the device's first QueryResponse.
	LastSeen    time.Time          `json:"last_seen"`
	TCs         []TCStatus         `json:"tcs"`
	Attestation *AttestationStatus `json:"attestation,omitempty"`
	LastReport  *ReportStatus      `json:"last_report,omitempty"`
	LastError   string             `json:"last_error,omitempty"`
}

// TCStatus is a trusted component the device reported.
type TCStatus struct {
	Component      string `json:"component"`
	SequenceNumber uint64 `json:"sequence_number"`
}

// AttestationStatus is the last appraisal of the device's evidence.
type AttestationStatus struct {
	Time   time.Time `json:"time"`
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
}

// ReportStatus is the device's last answer to an Update.
type ReportStatus struct {
	Time      time.Time `json:"time"`
	Success   bool      `json:"success"`
	Envelopes []string  `json:"envelopes"`
	// SUIT holds, per SUIT report, the manifest digest it is of and its
	// result ("ok" or the report's reason).
	SUIT    []SUITResult `json:"suit_reports"`
	ErrCode uint64       `json:"err_code,omitempty"`
	ErrMsg  string       `json:"err_msg,omitempty"`
}

// SUITResult is one SUIT report in brief.
type SUITResult struct {
	Manifest string `json:"manifest,omitempty"`
	Result   string `json:"result"`
}

// Status is every registered device's status, in the store's order.
func (c *Catalog) Status(ctx context.Context) ([]DeviceStatus, error) {
	devices, err := c.st.ListDevices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceStatus, 0, len(devices))
	for _, d := range devices {
		s := DeviceStatus{ID: d.ID, Name: d.Name, Registered: d.Registered, LastSeen: d.LastSeen,
			TCs: []TCStatus{}, LastError: d.LastError}
		for _, tc := range d.TCs {
			s.TCs = append(s.TCs, TCStatus{Component: tc.Component.String(), SequenceNumber: tc.SequenceNumber})
		}
		if a := d.Attestation; !a.Time.IsZero() || a.Status != "" {
			s.Attestation = &AttestationStatus{Time: a.Time, Status: a.Status, Reason: a.Reason}
		}
		reports, err := c.st.Reports(ctx, d.ID, MaxStatusReports)
		if err != nil {
			return nil, err
		}
		if len(reports) > 0 {
			s.LastReport = reportStatus(reports[0])
		}
		out = append(out, s)
	}
	return out, nil
}

func reportStatus(r store.Report) *ReportStatus {
	s := &ReportStatus{Time: r.Time, Success: r.Success, Envelopes: []string{}, SUIT: []SUITResult{},
		ErrCode: r.ErrCode, ErrMsg: r.ErrMsg}
	for _, e := range r.Envelopes {
		s.Envelopes = append(s.Envelopes, hex.EncodeToString(e))
	}
	for _, b := range r.SUITReports {
		s.SUIT = append(s.SUIT, suitResult(b))
	}
	return s
}

// suitResult reads a SUIT report as far as the status shows it; a report
// that does not parse (a signed one, or a peer's) is shown as such.
func suitResult(b []byte) SUITResult {
	rep, err := suit.ParseReport(b)
	if err != nil {
		return SUITResult{Result: "unreadable report"}
	}
	res := SUITResult{Manifest: hex.EncodeToString(rep.ManifestDigest.Bytes), Result: "ok"}
	if rep.Result != nil {
		res.Result = rep.Result.Reason.String()
	}
	return res
}
