package suit

import (
	"errors"
	"fmt"
)

// Map keys of SUIT_Report, SUIT_Record and the result (draft-ietf-suit-report).
const (
	reportKeyNonce        = 2
	reportKeyRecords      = 3
	reportKeyResult       = 4
	reportKeyResultCode   = 5
	reportKeyResultRecord = 6
	reportKeyResultReason = 7
	reportKeyCapabilities = 8
	reportKeyReference    = 99

	systemComponentID = 0
)

// ReportReason is a SUIT_Report_Reasons value: why processing failed, in
// terms that every implementation shares.
type ReportReason int64

// Report reasons (draft-ietf-suit-report §4.2).
const (
	ReasonOK                    ReportReason = 0
	ReasonCBORParse             ReportReason = 1
	ReasonCOSEUnsupported       ReportReason = 2
	ReasonAlgUnsupported        ReportReason = 3
	ReasonUnauthorised          ReportReason = 4
	ReasonCommandUnsupported    ReportReason = 5
	ReasonComponentUnsupported  ReportReason = 6
	ReasonComponentUnauthorised ReportReason = 7
	ReasonParameterUnsupported  ReportReason = 8
	ReasonSeveringUnsupported   ReportReason = 9
	ReasonConditionFailed       ReportReason = 10
	ReasonOperationFailed       ReportReason = 11
	ReasonInvokePending         ReportReason = 12
)

var reasonNames = [...]string{"ok", "cbor-parse", "cose-unsupported", "alg-unsupported", "unauthorised",
	"command-unsupported", "component-unsupported", "component-unauthorised", "parameter-unsupported",
	"severing-unsupported", "condition-failed", "operation-failed", "invoke-pending"}

func (r ReportReason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", int64(r))
}

// Report is a SUIT_Report: what a manifest processor did with one
// manifest, for the status tracker (RFC 9019 §2.3).
//
// Wire compatibility: members are integer keys of the draft; a parser
// refuses unknown keys (a report is evidence, and a member it cannot
// interpret may change what the rest means). Records keep the draft's
// order: SUIT_Records and system-property-claims interleaved as made.
type Report struct {
	// ManifestURI is the manifest's reference URI, "" when it has none.
	ManifestURI string
	// ManifestDigest is the digest in the manifest's authentication
	// wrapper: what identifies the manifest.
	ManifestDigest Digest
	// Nonce is the freshness value the requester supplied, nil if none.
	Nonce []byte
	// Records holds *ReportRecord and *SystemProperties entries.
	Records []ReportEntry
	// Result is nil when processing succeeded.
	Result *ReportResult
	// Capabilities is the capability report, nil unless asked for or
	// useful (see ReportOptions).
	Capabilities *CapabilityReport
}

// ReportEntry is a *ReportRecord or a *SystemProperties.
type ReportEntry interface{ reportEntry() }

// ReportRecord is a SUIT_Record: where in which manifest a command ran,
// and the properties that explain its outcome.
type ReportRecord struct {
	// ManifestID is the walk from the root manifest through dependency
	// indices; empty for the root.
	ManifestID []uint64
	Section    int64
	Offset     uint64
	Component  uint64
	Properties Parameters
}

// SystemProperties is a system-property-claims entry: what the device
// has, for one component.
type SystemProperties struct {
	Component  ComponentID
	Properties Parameters
}

func (*ReportRecord) reportEntry()     {}
func (*SystemProperties) reportEntry() {}

// ReportResult says why processing failed and where.
type ReportResult struct {
	// Code is this implementation's error code (ErrorCode), for debugging.
	Code   int64
	Record ReportRecord
	Reason ReportReason
}

// ReportOptions says what a report includes beyond its records.
type ReportOptions struct {
	// Nonce goes into the report as suit-report-nonce when set.
	Nonce []byte
	// Capabilities asks for the capability report. It is included
	// regardless when processing failed on something unsupported, which
	// is when the author most needs it.
	Capabilities bool
	// Components lists the component IDs the device supports for the
	// capability report; nil reports any component ([true]).
	Components []ComponentCapability
}

// NewReport builds the report of a processing run from the manifest, the
// Result and the error Process returned: a SUIT_Record for each record
// whose reporting policy asks for one, a system-property-claims entry for
// each whose policy asks for system information, and the result.
func NewReport(v *Verified, res *Result, err error, opts ReportOptions) *Report {
	r := &Report{ManifestDigest: v.Digest, Nonce: opts.Nonce}
	if v.Manifest != nil {
		r.ManifestURI = v.Manifest.ReferenceURI
	}
	// The result names the command that failed first: the innermost of
	// the error's chain (a dependency's, when it aborted its dependent),
	// else the last record that failed.
	var last, cause *Record
	ce := innermost(err)
	if res != nil {
		for i := range res.Records {
			rec := &res.Records[i]
			if rec.Err != nil {
				last = rec
				if ce != nil && rec.Manifest == ce.Manifest && rec.Offset == ce.Offset && rec.Component == ce.Component {
					cause = rec
				}
			}
			if rec.Component < 0 {
				continue
			}
			if rec.Reported() {
				r.Records = append(r.Records, reportRecord(res, rec))
			}
			if id := res.ComponentID(rec.Manifest, rec.Component); rec.SysinfoReported() && len(rec.Properties) > 0 && id != nil {
				r.Records = append(r.Records, &SystemProperties{Component: id, Properties: rec.Properties})
			}
		}
	}
	if cause != nil {
		last = cause
	}
	if err != nil {
		r.Result = &ReportResult{Code: ErrorCode(err), Reason: ReasonFor(err)}
		if last != nil {
			r.Result.Record = *reportRecord(res, last)
		}
	}
	if opts.Capabilities || (r.Result != nil && unsupportedReason(r.Result.Reason)) {
		r.Capabilities = Capabilities(opts.Components)
	}
	return r
}

// NewFailureReport reports an envelope that failed before processing
// began: it did not parse, authenticate or pass policy. The digest is the
// one the envelope claims, unverified; when not even that can be read, it
// is the SHA-256 of the bytes received.
func NewFailureReport(data []byte, err error, opts ReportOptions) *Report {
	r := &Report{Nonce: opts.Nonce, Result: &ReportResult{Code: ErrorCode(err), Reason: ReasonFor(err)}}
	r.ManifestDigest = reportDigestOf(data)
	if env, perr := ParseEnvelope(data); perr == nil {
		if d, derr := env.ManifestDigest(); derr == nil {
			r.ManifestDigest = d
		}
	}
	if opts.Capabilities || unsupportedReason(r.Result.Reason) {
		r.Capabilities = Capabilities(opts.Components)
	}
	return r
}

func reportRecord(res *Result, rec *Record) *ReportRecord {
	rr := &ReportRecord{ManifestID: res.ManifestPath(rec.Manifest), Section: rec.Section, Offset: uint64(rec.Offset), Properties: rec.Properties}
	if rec.Component >= 0 {
		rr.Component = uint64(rec.Component)
	}
	return rr
}

func unsupportedReason(r ReportReason) bool {
	switch r {
	case ReasonCOSEUnsupported, ReasonAlgUnsupported, ReasonCommandUnsupported,
		ReasonComponentUnsupported, ReasonParameterUnsupported, ReasonSeveringUnsupported:
		return true
	}
	return false
}

// ReasonFor maps an error of this package to the report reason a status
// tracker understands. Errors that are not ErrRejected are platform
// faults: the operation failed.
func ReasonFor(err error) ReportReason {
	ce := innermost(err)
	switch {
	case err == nil:
		return ReasonOK
	case errors.Is(err, ErrUnauthorized):
		return ReasonComponentUnauthorised
	case errors.Is(err, ErrBadSignature), errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrDigestMismatch) && ce == nil:
		return ReasonUnauthorised
	case errors.Is(err, ErrUnsupportedCOSE):
		return ReasonCOSEUnsupported
	case errors.Is(err, ErrUnsupportedAlgorithm):
		return ReasonAlgUnsupported
	case errors.Is(err, ErrUnsupportedCommand):
		return ReasonCommandUnsupported
	case errors.Is(err, ErrUnsupportedComponent):
		return ReasonComponentUnsupported
	case errors.Is(err, ErrUnsupportedParameter):
		return ReasonParameterUnsupported
	case ce != nil && ce.Condition, errors.Is(err, ErrRollback):
		return ReasonConditionFailed
	case ce != nil:
		return ReasonOperationFailed
	case errors.Is(err, ErrMalformed):
		return ReasonCBORParse
	}
	return ReasonOperationFailed
}

// errorCodes numbers this package's sentinels for the report's result
// code, most specific first. The numbers are this implementation's
// (draft-ietf-suit-report: "not intended for interoperability") and stay
// fixed once given.
var errorCodes = []struct {
	err  error
	code int64
}{
	{ErrUnsupportedCommand, 21}, {ErrUnsupportedParameter, 22}, {ErrUnsupportedComponent, 23},
	{ErrUnsupportedAlgorithm, 24}, {ErrUnsupportedCOSE, 25}, {ErrUnsupported, 20},
	{ErrMalformed, 10}, {ErrBadSignature, 30}, {ErrUnauthenticated, 31}, {ErrDigestMismatch, 32},
	{ErrUnauthorized, 33}, {ErrRollback, 40}, {ErrVendorMismatch, 41}, {ErrClassMismatch, 42},
	{ErrDeviceMismatch, 43}, {ErrImageMismatch, 44}, {ErrContentMismatch, 45}, {ErrSlotMismatch, 46},
	{ErrAborted, 47}, {ErrMissingParameter, 48}, {ErrTryEachExhausted, 49}, {ErrTooComplex, 50},
	{ErrPayloadUnavailable, 51}, {ErrNoDecryptionKey, 52}, {ErrDecryption, 53},
	{ErrNotDependency, 54}, {ErrExpired, 60}, {ErrImageMatches, 61}, {ErrBatteryLow, 62}, {ErrUpdateNotApproved, 63}, {ErrVersionMismatch, 64},
	{ErrRejected, 1},
}

// ErrorCode returns the report result code of err: a number per sentinel
// of this package, 1 for other refusals, 100 for platform faults.
func ErrorCode(err error) int64 {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	return 100
}

// Encode returns the deterministic encoding of the report.
func (r *Report) Encode() []byte { return mustMarshal(r.wire()) }

func (r *Report) wire() map[int64]any {
	m := map[int64]any{
		reportKeyReference: []any{r.ManifestURI, r.ManifestDigest},
		reportKeyRecords:   recordsWire(r.Records),
	}
	if r.Nonce != nil {
		m[reportKeyNonce] = r.Nonce
	}
	if r.Result == nil {
		m[reportKeyResult] = true
	} else {
		m[reportKeyResult] = map[int64]any{
			reportKeyResultCode:   r.Result.Code,
			reportKeyResultRecord: r.Result.Record.wire(),
			reportKeyResultReason: int64(r.Result.Reason),
		}
	}
	if r.Capabilities != nil {
		m[reportKeyCapabilities] = r.Capabilities.wire()
	}
	return m
}

func recordsWire(entries []ReportEntry) []any {
	out := make([]any, 0, len(entries))
	for _, e := range entries {
		switch x := e.(type) {
		case *ReportRecord:
			out = append(out, x.wire())
		case *SystemProperties:
			m := x.Properties.wire()
			m[systemComponentID] = x.Component
			out = append(out, m)
		}
	}
	return out
}

func (rr *ReportRecord) wire() []any {
	id := rr.ManifestID
	if id == nil {
		id = []uint64{}
	}
	props := rr.Properties.wire()
	return []any{id, rr.Section, rr.Offset, rr.Component, props}
}
