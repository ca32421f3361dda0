package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SessionOutcome is how a TEEP session ended.
type SessionOutcome string

// The outcomes of a session.
const (
	// OutcomeUpToDate: the device's evidence was trustworthy and it
	// needed nothing (Detail: why something was held back, if it was).
	OutcomeUpToDate SessionOutcome = "up to date"
	// OutcomeRefused: its evidence was not trustworthy; nothing was sent
	// (Detail: the appraisal's status and reason).
	OutcomeRefused SessionOutcome = "refused"
	// OutcomeSuccess: the device installed what the Update carried.
	OutcomeSuccess SessionOutcome = "success"
	// OutcomeError: the device answered Error (Detail: its code and
	// message).
	OutcomeError SessionOutcome = "error"
	// OutcomeExpired: the Update got no answer before the session expired.
	OutcomeExpired SessionOutcome = "expired"
)

// SessionRecord is one ended TEEP session in a device's log.
type SessionRecord struct {
	Device string
	// Started is when its QueryRequest went out, Ended when its last
	// message was recorded (its expiry, for an expired one).
	Started, Ended time.Time
	// Numbering is the TEEP codepoint numbering it spoke.
	Numbering uint8
	Outcome   SessionOutcome
	Detail    string
	// Envelopes are the digests of the envelopes its Update carried.
	Envelopes [][]byte
}

// SessionEnd is how an answer ends its session (Answer.End).
type SessionEnd struct {
	Outcome SessionOutcome
	Detail  string
}

// SessionLogs are the devices' logs of ended TEEP sessions. A session is
// logged in the transaction that ends it: RecordAnswer with an End, and
// DeleteExpiredSessions for a session whose Update got no answer
// (OutcomeExpired, ended at its expiry). A session that expired before
// its QueryResponse named a device is in no device's log.
type SessionLogs interface {
	// SessionLog is the last limit sessions of a device, newest first (by
	// Ended, then the later logged). limit must be positive (ErrInvalid)
	// and is clamped to MaxPage; ErrNotFound when the device is not
	// registered.
	SessionLog(ctx context.Context, device string, limit int) ([]SessionRecord, error)
}

// ValidOutcome checks that o is one of the outcomes.
func ValidOutcome(o SessionOutcome) error {
	switch o {
	case OutcomeUpToDate, OutcomeRefused, OutcomeSuccess, OutcomeError, OutcomeExpired:
		return nil
	}
	return fmt.Errorf("%w: session outcome %q", ErrInvalid, o)
}

// Validate checks e as the end of session s.
func (e SessionEnd) Validate(s Session) error {
	errs := []error{ValidOutcome(e.Outcome), ValidText("session outcome detail", e.Detail, MaxText)}
	if s.State != Done {
		errs = append(errs, fmt.Errorf("%w: a session in state %s does not end", ErrInvalid, s.State))
	}
	return errors.Join(errs...)
}

// Record is the log entry of session s ended by e at now.
func (e SessionEnd) Record(s Session, now time.Time) SessionRecord {
	return SessionRecord{Device: s.Device, Started: s.Created, Ended: now, Numbering: s.Numbering,
		Outcome: e.Outcome, Detail: e.Detail, Envelopes: s.Envelopes}
}
