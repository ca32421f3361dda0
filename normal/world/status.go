package world

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/confine"
	"github.com/teeup/teeup/normal/control"
)

// Status is what the normal world reports on its control socket: the
// components as the secure world reports them (ipc Query), and the
// outcome of this boot's health check as the secure world answered it.
type Status struct {
	PID    int          `json:"pid"`
	Health agent.Health `json:"health,omitempty"`
	// HealthError is the secure world's refusal or failure of the accept
	// or reject that followed the health check, if any.
	HealthError string              `json:"health_error,omitempty"`
	Components  []ipc.ComponentInfo `json:"components"`
	// Confinement is what the normal world's process put in force before
	// it read any input, as it reports it (the supervisor checks it).
	Confinement *confine.Report `json:"confinement,omitempty"`
}

// QueryStatus asks the normal world listening on sock for its status.
func QueryStatus(ctx context.Context, sock string) (*Status, error) {
	final, err := control.Call(ctx, sock, control.Request{Op: "status"}, nil)
	if err != nil {
		return nil, err
	}
	if final.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, final.Error)
	}
	var st Status
	if err := json.Unmarshal(final.Status, &st); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &st, nil
}

// QueryDeviceStatus asks the device whose normal world listens on sock
// for the secure world's whole status. A device that does not listen
// (it is off) is control.ErrNoListener.
func QueryDeviceStatus(ctx context.Context, sock string) (*ipc.DeviceStatusResult, error) {
	final, err := control.Call(ctx, sock, control.Request{Op: "device-status"}, nil)
	if err != nil {
		return nil, err
	}
	if final.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, final.Error)
	}
	var st ipc.DeviceStatusResult
	if err := json.Unmarshal(final.Status, &st); err != nil {
		return nil, fmt.Errorf("device status: %w", err)
	}
	return &st, nil
}

// ErrRefused wraps the normal world's answer to a request that failed: the
// update or the status the secure world refused, or could not give.
var ErrRefused = errors.New("the device refused")

// ErrNotBack is returned by Update when the device does not answer after
// the reboot that applies the update before ctx ends.
var ErrNotBack = errors.New("the device did not come back after the reboot")

// UpdateOutcome is how an update ended, each part as the secure world
// answered it and the normal world relayed it.
type UpdateOutcome struct {
	// Rebooted: the set was staged and the device rebooted to apply it;
	// Staged holds the components the set staged, as reported before.
	Rebooted bool
	Staged   []ipc.ComponentInfo
	// After is the status once the update is in effect: after the install
	// of TAs, or after the reboot and its health check.
	After *Status
	// Session is the TEEP session's outcome, for a teep request.
	Session *broker.Outcome
}

// Accepted reports whether the update is in effect: the secure world
// installed the set (TAs), or every component the set staged reports
// UPDATED after the reboot, its trial accepted.
func (o *UpdateOutcome) Accepted() bool {
	if !o.Rebooted {
		return o.After != nil
	}
	if len(o.Staged) == 0 || o.After == nil {
		return false
	}
	for _, s := range o.Staged {
		if o.After.state(s.ID) != ipc.StateUpdated {
			return false
		}
	}
	return true
}

// NotUpdated lists the staged components that do not report UPDATED
// after the reboot, with the state they report.
func (o *UpdateOutcome) NotUpdated() []ipc.ComponentInfo {
	var out []ipc.ComponentInfo
	for _, s := range o.Staged {
		st := ipc.State("")
		if o.After != nil {
			st = o.After.state(s.ID)
		}
		if st != ipc.StateUpdated {
			s.State = st
			out = append(out, s)
		}
	}
	return out
}

func (s *Status) state(id [][]byte) ipc.State {
	for _, c := range s.Components {
		if slices.EqualFunc(c.ID, id, func(a, b []byte) bool { return string(a) == string(b) }) {
			return c.State
		}
	}
	return ""
}

// staged are the components of a status that a set staged.
func staged(st *Status) []ipc.ComponentInfo {
	var out []ipc.ComponentInfo
	for _, c := range st.Components {
		if c.State == ipc.StateStaged {
			out = append(out, c)
		}
	}
	return out
}

// Update asks the normal world listening on sock to run req, an update
// or a TEEP session (the secure world's Agent installs what the TAM sends),
// passes its progress to say, and, when the update needs a reboot, waits
// for the device to come back (polling every poll) and reads its status.
// An update the normal world reports failed is ErrRefused with its
// answer, and the outcome so far. When ctx ends, the normal world is asked to stop and cancel the
// update, and its answer is returned as for any failure.
func Update(ctx context.Context, sock string, req control.Request, say func(string), poll time.Duration) (*UpdateOutcome, error) {
	before, err := QueryStatus(ctx, sock)
	if err != nil {
		return nil, err
	}
	req, remove, err := HandOver(sock, req)
	if err != nil {
		return nil, fmt.Errorf("update: handing the files to the normal world: %w", err)
	}
	defer remove()
	out := &UpdateOutcome{}
	final, err := control.Call(ctx, sock, req, func(l control.Line) {
		if l.Progress != "" {
			say(l.Progress)
		}
		if l.TEEP != nil {
			var o broker.Outcome
			if json.Unmarshal(l.TEEP, &o) == nil {
				out.Session = &o
			}
		}
		if l.Status != nil {
			var st Status
			if json.Unmarshal(l.Status, &st) == nil {
				out.Staged = staged(&st)
			}
		}
	})
	switch {
	case err != nil && !errors.Is(err, control.ErrHungUp):
		return nil, err
	case final != nil && final.Error != "":
		// What the request did before it failed (a TEEP session's
		// outcome) is in out.
		return out, fmt.Errorf("%w: %s", ErrRefused, final.Error)
	case final != nil && final.Status != nil:
		// Installed with no reboot: TAs.
		var st Status
		if err := json.Unmarshal(final.Status, &st); err != nil {
			return nil, fmt.Errorf("update status: %w", err)
		}
		out.After = &st
		return out, nil
	}
	// The secure world agreed to reset, or the normal world hung up: the
	// device resets, to apply the set it staged, or for another reason (a
	// power cut), which Staged tells.
	out.Rebooted = true
	say("waiting for the device to reboot")
	for {
		if st, err := QueryStatus(ctx, sock); err == nil && st.PID != before.PID {
			out.After = st
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("%w: %w", ErrNotBack, ctx.Err())
		case <-time.After(poll):
		}
	}
}
