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

// SummaryJSON is the fleet at a glance (store.FleetSummary): every
// registered device counted, whichever page is read.
type SummaryJSON struct {
	Devices int `json:"devices"`
	// NeverSeen devices sent no QueryResponse yet; Failing ones were seen
	// and hold a last error; Up ones were seen with none.
	NeverSeen int `json:"never_seen"`
	Failing   int `json:"failing"`
	Up        int `json:"up"`
	// ByAttestation counts devices by their last appraisal's status (""
	// for never appraised), by status.
	ByAttestation []AttestationCount `json:"by_attestation"`
	// LastErrors are the most common last errors, most devices first, at
	// most store.MaxSummaryRows; OtherErrors counts the devices whose
	// error is left out.
	LastErrors  []ErrorCount `json:"last_errors"`
	OtherErrors int          `json:"other_errors"`
	// Versions count the devices reporting each component at each
	// sequence number, by component then sequence number, at most
	// store.MaxSummaryRows; MoreVersions is how many rows were left out.
	Versions     []VersionCount `json:"versions"`
	MoreVersions int            `json:"more_versions"`
}

// AttestationCount is the devices whose last appraisal had that status.
type AttestationCount struct {
	Status  string `json:"status"`
	Devices int    `json:"devices"`
}

// ErrorCount is the devices whose last error is that text.
type ErrorCount struct {
	Error   string `json:"error"`
	Devices int    `json:"devices"`
}

// VersionCount is the devices reporting one component at one sequence
// number.
type VersionCount struct {
	Component      string `json:"component"`
	SequenceNumber uint64 `json:"sequence_number"`
	Devices        int    `json:"devices"`
}

// Status is one page of the fleet's status: up to limit (1 to MaxPage)
// devices whose IDs sort after after, by ID, each with its last report,
// and Next when more follow. The first page (after empty) carries the
// fleet's summary; the others leave it out, so that a client walking
// every page does not have the fleet counted again for each. It reads
// one page of devices and their last reports in one query, never the
// whole fleet.
func (c *Catalog) Status(ctx context.Context, after string, limit int) (StatusJSON, error) {
	var out StatusJSON
	if after == "" {
		sum, err := c.st.FleetSummary(ctx)
		if err != nil {
			return StatusJSON{}, err
		}
		out.Summary = summaryJSON(sum)
	}
	devices, next, err := DevicePage(ctx, c.st, after, limit)
	if err != nil {
		return StatusJSON{}, err
	}
	ids := make([]string, 0, len(devices))
	for _, d := range devices {
		ids = append(ids, d.ID)
	}
	last, err := c.st.LastReports(ctx, ids)
	if err != nil {
		return StatusJSON{}, storeErr(err)
	}
	out.Devices, out.Next = make([]DeviceStatus, 0, len(devices)), next
	for _, d := range devices {
		s := DeviceStatus{ID: d.ID, Name: d.Name, Registered: d.Registered, LastSeen: d.LastSeen,
			TCs: []TCStatus{}, LastError: d.LastError}
		for _, tc := range d.TCs {
			s.TCs = append(s.TCs, TCStatus{Component: tc.Component.String(), SequenceNumber: tc.SequenceNumber})
		}
		if a := d.Attestation; !a.Time.IsZero() || a.Status != "" {
			s.Attestation = &AttestationStatus{Time: a.Time, Status: a.Status, Reason: a.Reason}
		}
		if r, ok := last[d.ID]; ok {
			s.LastReport = reportStatus(r)
		}
		out.Devices = append(out.Devices, s)
	}
	return out, nil
}

func summaryJSON(f store.FleetSummary) *SummaryJSON {
	s := &SummaryJSON{Devices: f.Devices, NeverSeen: f.NeverSeen, Failing: f.Failing, Up: f.Up,
		ByAttestation: []AttestationCount{}, LastErrors: []ErrorCount{}, OtherErrors: f.OtherErrors,
		Versions: []VersionCount{}, MoreVersions: f.MoreVersions}
	for _, a := range f.ByAttestation {
		s.ByAttestation = append(s.ByAttestation, AttestationCount{Status: a.Label, Devices: a.N})
	}
	for _, e := range f.LastErrors {
		s.LastErrors = append(s.LastErrors, ErrorCount{Error: e.Label, Devices: e.N})
	}
	for _, v := range f.Versions {
		s.Versions = append(s.Versions, VersionCount{Component: v.Component.String(), SequenceNumber: v.SequenceNumber, Devices: v.Devices})
	}
	return s
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
