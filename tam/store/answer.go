package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Answer is a device's message that moves a TEEP session on (its
// QueryResponse, Success or Error) with everything the TAM records of it.
// RecordAnswer writes all of it in one transaction, or nothing: a TAM that
// dies while recording an answer leaves the session waiting, so that the
// device's retry is taken, and never a spent session whose report, tc-list
// or delivery outcomes are lost.
type Answer struct {
	// Session is the session as it is to be stored; its Device is the
	// device that answered, whose record the rest changes.
	Session Session
	// From is the state the stored session must be in, not expired at
	// Now: a compare-and-set, as AdvanceSession.
	From SessionState
	Now  time.Time
	// RecordTCs replaces the device's tc-list with TCs and its last-seen
	// time with Now.
	RecordTCs bool
	TCs       []InstalledTC
	// Attestation, when not nil, replaces the device's last appraisal.
	Attestation *Attestation
	// LastError, when not nil, sets the device's last error (empty
	// clears it).
	LastError *string
	// Report, when not nil, is appended to the device's reports.
	Report *Report
	// Deliveries are the rollout deliveries the answer moves, each a
	// compare-and-set as MoveDelivery; one that another session or
	// replica moved first is left as it is, and the rest is recorded.
	Deliveries []DeliveryMove
	// End, when not nil, ends the session (its state must be Done) and
	// logs it in the device's session log (SessionLogs).
	End *SessionEnd
}

// DeliveryMove is one compare-and-set of a delivery: to Next, if it is in
// state From with token Token.
type DeliveryMove struct {
	Next  Delivery
	From  DeliveryState
	Token []byte
}

// Answers record the devices' answers.
type Answers interface {
	// RecordAnswer stores a.Session if the stored session is in state
	// a.From and not expired at a.Now, and with it every change a holds,
	// in one transaction. ErrConflict (a replay, or two replicas racing)
	// or ErrNotFound (no session has that token, or the device is not
	// registered) and nothing changes; ErrInvalid for an answer that
	// breaks the store's rules (Validate), before anything is written.
	RecordAnswer(ctx context.Context, a Answer) error
}

// Validate checks a against the store's rules: a valid session move of
// the device named, and valid records of that device.
func (a Answer) Validate() error {
	errs := []error{a.Session.Validate(), ValidAdvance(a.From, a.Session.State), ValidTime("now", a.Now)}
	if a.Now.IsZero() {
		errs = append(errs, fmt.Errorf("%w: an answer without its time", ErrInvalid))
	}
	dev := a.Session.Device
	if dev == "" {
		errs = append(errs, fmt.Errorf("%w: an answer's session names no device", ErrInvalid))
	}
	if a.RecordTCs {
		errs = append(errs, ValidateTCs(a.TCs))
	}
	if a.Attestation != nil {
		errs = append(errs, a.Attestation.Validate())
	}
	if a.LastError != nil {
		errs = append(errs, ValidText("device last error", *a.LastError, MaxText))
	}
	if r := a.Report; r != nil {
		errs = append(errs, r.Validate())
		if r.Device != dev {
			errs = append(errs, fmt.Errorf("%w: the report is of device %q, the session of %q", ErrInvalid, r.Device, dev))
		}
	}
	if len(a.Deliveries) > MaxItems {
		errs = append(errs, fmt.Errorf("%w: %d delivery moves, at most %d", ErrInvalid, len(a.Deliveries), MaxItems))
	}
	for _, m := range a.Deliveries {
		errs = append(errs, m.Next.Validate(), ValidDeliveryMove(m.From, m.Next.State))
		if m.Next.Device != dev {
			errs = append(errs, fmt.Errorf("%w: a delivery to %q in an answer of %q", ErrInvalid, m.Next.Device, dev))
		}
	}
	if a.End != nil {
		errs = append(errs, a.End.Validate(a.Session))
	}
	return errors.Join(errs...)
}
