package suit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// manage runs the conditions and directives of
// draft-ietf-suit-update-management on component t.
func (pr *processor) manage(cmd Command, t Target) error {
	switch cmd.Code {
	case CondUseBefore:
		limit, ok := t.Params.Uint(ParamUseBefore)
		if !ok {
			return missing(ParamUseBefore)
		}
		clock, ok := pr.p.(Clock)
		if !ok {
			return needs(cmd, "a clock")
		}
		now, err := clock.Now()
		if err != nil {
			return err
		}
		// Seconds since 1970 in 64 bits, as the draft requires; a limit
		// past int64 is in no reachable future.
		if limit <= math.MaxInt64 && !now.Before(time.Unix(int64(limit), 0)) {
			return fmt.Errorf("%w: now %d, use before %d", ErrExpired, now.Unix(), limit)
		}
		return nil
	case CondImageNotMatch:
		err := pr.imageMatch(t)
		switch {
		case err == nil:
			return ErrImageMatches
		case errors.Is(err, ErrImageMismatch):
			return nil
		}
		return err
	case CondMinimumBattery:
		minimum, ok := t.Params.Uint(ParamMinimumBattery)
		if !ok {
			return missing(ParamMinimumBattery)
		}
		b, ok := pr.p.(Battery)
		if !ok {
			return needs(cmd, "a battery gauge")
		}
		level, err := b.BatteryLevel()
		if err != nil {
			return err
		}
		pr.meas.setUint(ParamMinimumBattery, level)
		if level < minimum {
			return fmt.Errorf("%w: %d mWh of %d", ErrBatteryLow, level, minimum)
		}
		return nil
	case CondUpdateAuthorized:
		priority, ok := t.Params.Int(ParamUpdatePriority)
		if !ok {
			return missing(ParamUpdatePriority)
		}
		a, ok := pr.p.(UpdateApprover)
		if !ok {
			return needs(cmd, "an update approver")
		}
		approved, err := a.ApproveUpdate(pr.ctx, t, priority)
		if err != nil {
			return err
		}
		if !approved {
			return fmt.Errorf("%w: priority %d", ErrUpdateNotApproved, priority)
		}
		return nil
	case CondVersion:
		want, ok := t.Params.Version()
		if !ok {
			return missing(ParamVersion)
		}
		vs, ok := pr.p.(VersionSource)
		if !ok {
			return needs(cmd, "component versions")
		}
		have, err := vs.ComponentVersion(t)
		if err != nil && !errors.Is(err, ErrNoImage) {
			return err
		}
		if have == nil {
			return fmt.Errorf("%w: the component asserts no version", ErrVersionMismatch)
		}
		pr.meas.set(ParamVersion, VersionMatch{Type: VersionEqual, Version: have})
		if !want.Matches(have) {
			return fmt.Errorf("%w: %v", ErrVersionMismatch, have)
		}
		return nil
	case DirWait:
		w, ok := t.Params.WaitInfo()
		if !ok {
			return missing(ParamWaitInfo)
		}
		waiter, ok := pr.p.(Waiter)
		if !ok {
			return needs(cmd, "a way to wait for events")
		}
		return waiter.Wait(pr.ctx, t, w)
	case DirCopyParams:
		n := len(pr.f.ids)
		for _, e := range cmd.CopyFrom {
			if e.Index >= uint64(n) {
				return malformed("copy-params from component %d of %d", e.Index, n)
			}
			src := pr.f.param(int(e.Index))
			for _, k := range e.Keys {
				if v, ok := src.get(k); ok {
					t.Params.set(k, v)
				}
			}
		}
		return nil
	}
	return unsupportedAs(ErrUnsupportedCommand, "command %s", CommandName(cmd.Code))
}

// needs refuses a command whose platform interface is missing.
func needs(cmd Command, what string) error {
	return unsupportedAs(ErrUnsupportedCommand, "%s needs %s, which the platform does not provide", CommandName(cmd.Code), what)
}
