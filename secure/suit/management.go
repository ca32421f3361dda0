package suit

import (
	"context"
	"fmt"
	"time"
)

// Version comparison types of SUIT_Parameter_Version_Match
// (draft-ietf-suit-update-management §4.4).
const (
	VersionGreater      = 1
	VersionGreaterEqual = 2
	VersionEqual        = 3
	VersionLesserEqual  = 4
	VersionLesser       = 5
)

// VersionMatch is a SUIT_Parameter_Version_Match: a comparison and the
// version to compare the component's version with. A version is a list of
// integers, compared in order: release numbers, then an optional negative
// pre-release class (-1 rc, -2 beta, -3 alpha) and its numbers.
type VersionMatch struct {
	Type    int64
	Version []int64
}

// Matches reports whether a component version satisfies the match. The
// comparison stops at the end of the match's version, so "= [1]" matches
// every 1.x; a component version that is shorter reads as zeros beyond
// its end (1.2 is 1.2.0, which is above 1.2-rc).
func (m VersionMatch) Matches(have []int64) bool {
	c := 0
	for i, want := range m.Version {
		var h int64
		if i < len(have) {
			h = have[i]
		}
		if h != want {
			if h < want {
				c = -1
			} else {
				c = 1
			}
			break
		}
	}
	switch m.Type {
	case VersionGreater:
		return c > 0
	case VersionGreaterEqual:
		return c >= 0
	case VersionEqual:
		return c == 0
	case VersionLesserEqual:
		return c <= 0
	case VersionLesser:
		return c < 0
	}
	return false
}

// String renders the match as the draft's text form does: ">=[1 2]".
func (m VersionMatch) String() string {
	ops := map[int64]string{VersionGreater: ">", VersionGreaterEqual: ">=", VersionEqual: "=", VersionLesserEqual: "<=", VersionLesser: "<"}
	return fmt.Sprintf("%s%v", ops[m.Type], m.Version)
}

// Encode returns the encoded match (the content of the parameter's bstr).
func (m VersionMatch) Encode() []byte { return mustMarshal([]any{m.Type, m.Version}) }

func decodeVersionMatch(data []byte) (VersionMatch, error) {
	r := newReader(data)
	var m VersionMatch
	if n, err := r.array(2); err != nil || n != 2 {
		return m, malformed("version match is not [type, version]")
	}
	var err error
	if m.Type, err = r.int(); err != nil {
		return m, err
	}
	if m.Type < VersionGreater || m.Type > VersionLesser {
		return m, unsupportedAs(ErrUnsupportedParameter, "version comparison type %d", m.Type)
	}
	if m.Version, err = readVersion(r); err != nil {
		return m, err
	}
	return m, r.done()
}

// readVersion reads a SUIT_Condition_Version_Comparison_Value: [+int],
// whose first element, the major number, is not a pre-release indicator.
func readVersion(r *reader) ([]int64, error) {
	n, err := r.array(MaxVersionParts)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("empty version")
	}
	v := make([]int64, n)
	for i := range v {
		if v[i], err = r.int(); err != nil {
			return nil, err
		}
	}
	if v[0] < 0 {
		return nil, malformed("version begins with a pre-release indicator")
	}
	return v, nil
}

func decodeVersion(data []byte) ([]int64, error) {
	r := newReader(data)
	v, err := readVersion(r)
	if err != nil {
		return nil, err
	}
	return v, r.done()
}

// Wait events of SUIT_Wait_Event (draft-ietf-suit-update-management §4.5).
const (
	WaitAuthorization      = 1
	WaitPower              = 2
	WaitNetwork            = 3
	WaitOtherDeviceVersion = 4
	WaitTime               = 5
	WaitTimeOfDay          = 6
	WaitDayOfWeek          = 7
	WaitTimeOfDayUTC       = 8
	WaitDayOfWeekUTC       = 9
)

// WaitInfo is a decoded SUIT_Wait_Event: the events that must all hold
// before processing continues. Events holds the integer argument of each
// event present, by event key; OtherDevice holds the argument of
// WaitOtherDeviceVersion.
type WaitInfo struct {
	Events      map[int64]int64
	OtherDevice *OtherDeviceVersion
}

// OtherDeviceVersion is the argument of WaitOtherDeviceVersion.
type OtherDeviceVersion struct {
	Device  []byte
	Matches []VersionMatch
}

// Encode returns the encoded wait events (the content of the parameter's bstr).
func (w WaitInfo) Encode() []byte {
	m := map[int64]any{}
	for k, v := range w.Events {
		m[k] = v
	}
	if w.OtherDevice != nil {
		matches := make([]any, len(w.OtherDevice.Matches))
		for i, vm := range w.OtherDevice.Matches {
			matches[i] = []any{vm.Type, vm.Version}
		}
		m[WaitOtherDeviceVersion] = []any{w.OtherDevice.Device, matches}
	}
	return mustMarshal(m)
}

func decodeWaitInfo(data []byte) (WaitInfo, error) {
	r := newReader(data)
	w := WaitInfo{Events: map[int64]int64{}}
	n, err := r.mapHead()
	if err != nil {
		return w, err
	}
	if n == 0 {
		return w, malformed("no wait events")
	}
	var seen keySet
	for range n {
		key, err := r.int()
		if err != nil {
			return w, err
		}
		if err := seen.add(r, key); err != nil {
			return w, err
		}
		switch key {
		case WaitAuthorization, WaitPower, WaitNetwork:
			w.Events[key], err = r.int()
		case WaitTime, WaitTimeOfDay, WaitDayOfWeek, WaitTimeOfDayUTC, WaitDayOfWeekUTC:
			var u uint64
			if u, err = r.uint(); err == nil {
				if u > 1<<63-1 {
					err = malformed("wait event %d out of range", key)
				}
				w.Events[key] = int64(u)
			}
		case WaitOtherDeviceVersion:
			w.OtherDevice, err = readOtherDevice(r)
		default:
			err = unsupportedAs(ErrUnsupportedParameter, "wait event %d", key)
		}
		if err != nil {
			return w, fmt.Errorf("wait event %d: %w", key, err)
		}
	}
	return w, r.done()
}

func readOtherDevice(r *reader) (*OtherDeviceVersion, error) {
	if n, err := r.array(2); err != nil || n != 2 {
		return nil, malformed("other-device-version is not [device, matches]")
	}
	o := &OtherDeviceVersion{}
	var err error
	if o.Device, err = r.bytes(); err != nil {
		return nil, err
	}
	n, err := r.array(MaxVersionParts)
	if err != nil || n == 0 {
		return nil, malformed("other-device-version without version matches")
	}
	for range n {
		start := r.off
		if _, err := r.skip(3); err != nil {
			return nil, err
		}
		m, err := decodeVersionMatch(r.data[start:r.off])
		if err != nil {
			return nil, err
		}
		o.Matches = append(o.Matches, m)
	}
	return o, nil
}

// The update-management conditions and directives ask the device about
// things only it knows. Each is an optional interface a Platform may
// implement; a command whose interface the platform lacks fails as
// ErrUnsupportedCommand, so that nothing is assumed in its place (no
// wall clock for a device without trusted time, no battery, no consent).
type (
	// Clock is the device's trusted time, for condition-use-before.
	Clock interface {
		Now() (time.Time, error)
	}
	// Battery reports the energy available, for condition-minimum-battery.
	Battery interface {
		// BatteryLevel returns the charge available in mWh.
		BatteryLevel() (uint64, error)
	}
	// UpdateApprover asks the application or the user whether an update
	// of the given priority (lower is more urgent) may proceed now, for
	// condition-update-authorized.
	UpdateApprover interface {
		ApproveUpdate(ctx context.Context, t Target, priority int64) (bool, error)
	}
	// VersionSource reports the version a component asserts, for
	// condition-version; nil when it asserts none.
	VersionSource interface {
		ComponentVersion(t Target) ([]int64, error)
	}
	// Waiter pauses processing until every event of w holds, for
	// directive-wait. It returns an error if the events cannot be met (a
	// device may prefer to abort and resume later, as the draft allows).
	Waiter interface {
		Wait(ctx context.Context, t Target, w WaitInfo) error
	}
)
