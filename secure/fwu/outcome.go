package fwu

import (
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// Outcome is what became of an envelope in the service: enough for the
// caller to build its SUIT report (draft-ietf-suit-report) with Report.
type Outcome struct {
	// Envelope is the envelope as received (for a firmware payload that
	// failed later, as the slot keeps it: without integrated payloads).
	Envelope []byte
	// Verified is the authenticated and authorized envelope; nil when it
	// was refused before (it did not parse, authenticate or pass policy).
	Verified *suit.Verified
	// Result is the processing run, when one ran.
	Result *suit.Result
	// Err is why the envelope was refused or its payload failed; nil when
	// it was processed.
	Err error
}

// Report builds the SUIT report of the outcome: a failure report when the
// envelope was refused before it was verified, else the report of its
// processing run, whose result names the command that failed.
func (o *Outcome) Report(opts suit.ReportOptions) *suit.Report {
	if o.Verified == nil {
		return suit.NewFailureReport(o.Envelope, o.Err, opts)
	}
	return suit.NewReport(o.Verified, o.Result, o.Err, opts)
}

// RefusedError is the error of StartUpdate, WriteChunk, Finish and
// Install when an envelope is refused or its payload fails: it carries the
// Outcome (errors.As), and errors.Is sees its cause (suit.ErrRejected and
// its kinds, keys.ErrUnauthorized, a decryption or flash error).
type RefusedError struct {
	Outcome *Outcome
}

func (e *RefusedError) Error() string { return e.Outcome.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Outcome.Err }

// refuse records o as the last outcome and returns it as an error.
func (s *Service) refuse(o *Outcome) error {
	s.last = o
	return &RefusedError{Outcome: o}
}

// LastOutcome returns the outcome of the last envelope the service
// started, refused or failed, for a report of success as well as failure;
// nil before any.
func (s *Service) LastOutcome() *Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// imageMatchFailed is the outcome of image im whose digest did not
// match: the deferred condition-image-match of the plan fails as the
// command itself would have, a CommandError located where the plan ran it
// on im's component and a failed record of it appended to the plan's
// result, so that the report names that command and says
// condition-failed.
func imageMatchFailed(im *image, err error) *Outcome {
	o := im.outcome(err)
	if im.planned == nil {
		return o
	}
	for i := len(im.planned.Records) - 1; i >= 0; i-- {
		r := im.planned.Records[i]
		if r.Command == "condition-image-match" && r.Component >= 0 && r.Manifest == 0 && r.Err == nil {
			r.Err = err
			res := *im.planned
			res.Records = append(slices.Clone(res.Records), r)
			o.Result = &res
			o.Err = &suit.CommandError{Sequence: r.Sequence, Command: r.Command, Component: r.Component, Condition: true,
				Manifest: r.Manifest, Offset: r.Offset, Err: err}
			return o
		}
	}
	return o
}
