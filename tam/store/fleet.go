package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Fleet is the rollout side of the store (issue 15): operator tags on
// devices, groups, releases, and rollouts with their per-device
// deliveries. Every change of a rollout or a delivery is a compare-and-set,
// so that TAM replicas sharing one database never advance a wave twice nor
// send a release twice to one device.
type Fleet interface {
	Tags
	Groups
	Releases
	Rollouts
}

// Tags are the operator-set tags of devices, which groups select by.
type Tags interface {
	// SetTags replaces the tags of a registered device (ErrNotFound for
	// another); tags must be non-empty and distinct (ErrInvalid). An
	// empty list removes them all.
	SetTags(ctx context.Context, device string, tags []string) error
	// Tags are a registered device's tags, sorted; nil when it has none.
	Tags(ctx context.Context, device string) ([]string, error)
	// TaggedDevices are the IDs of the devices holding tag, sorted; nil
	// when none does.
	TaggedDevices(ctx context.Context, tag string) ([]string, error)
}

// Selector picks devices by their attributes; an empty field matches
// every device, and a device must match every field set. What a field
// means is the rollout engine's (tam/rollout): the store keeps the text.
type Selector struct {
	// Model is the device's hardware model (its endorsement's hwmodel, hex).
	Model string
	// Version is a sequence number the device last reported running.
	Version string
	// Tag is one of its operator-set tags.
	Tag string
}

// IsZero reports whether the selector matches every device.
func (s Selector) IsZero() bool { return s == Selector{} }

// Group is a named set of devices: explicit members, or a selector.
type Group struct {
	Name string
	// Members are the device IDs of a group by name, distinct and
	// registered; nil for a group by selector.
	Members  []string
	Selector Selector
	Created  time.Time
}

// Groups are the named groups of devices.
type Groups interface {
	// AddGroup stores g: ErrExists when its name is taken, ErrNotFound
	// when a member is not a registered device, ErrInvalid when it has
	// both members and a selector, or neither.
	AddGroup(ctx context.Context, g Group) error
	Group(ctx context.Context, name string) (Group, error)
	// ListGroups is every group, by name.
	ListGroups(ctx context.Context) ([]Group, error)
}

// Release is a named set of published envelopes that a rollout delivers
// together (TAs and/or a secure+normal pair).
type Release struct {
	Name string
	// Envelopes are the digests of stored envelopes, distinct, at least one.
	Envelopes [][]byte
	Created   time.Time
}

// Releases are the named releases.
type Releases interface {
	// AddRelease stores r: ErrExists when its name is taken, ErrNotFound
	// when one of its envelopes is not stored.
	AddRelease(ctx context.Context, r Release) error
	Release(ctx context.Context, name string) (Release, error)
	// ListReleases is every release, by name.
	ListReleases(ctx context.Context) ([]Release, error)
}

// RolloutState is where a rollout is.
type RolloutState string

// The states of a rollout. Running sends; paused, halted, canceled and
// completed send nothing new.
const (
	RolloutRunning   RolloutState = "running"
	RolloutPaused    RolloutState = "paused"
	RolloutHalted    RolloutState = "halted" // the error threshold was reached
	RolloutCanceled  RolloutState = "canceled"
	RolloutCompleted RolloutState = "completed"
)

// Rollout delivers a release to a group's devices, frozen into waves
// when it was created.
type Rollout struct {
	ID      string
	Group   string // the group it was resolved from
	Release string
	// Waves are the number of devices in each wave, each at least one;
	// the rollout's deliveries fill them in order.
	Waves []int
	// SuccessThreshold is the percentage (1 to 100) of a wave's devices
	// that must succeed for the next wave to start; ErrorThreshold the
	// percentage (1 to 100) failed that halts the rollout.
	SuccessThreshold int
	ErrorThreshold   int
	State            RolloutState
	// Wave is the index of the last started wave: the deliveries of waves
	// 0 to Wave may be sent.
	Wave int
	// Reason is why the rollout was last halted, paused or canceled.
	Reason  string
	Created time.Time
	Updated time.Time
}

// DeliveryState is where the release of a rollout is for one device.
type DeliveryState string

// The states of a delivery: pending, then sent (with the TEEP session's
// token; sent again under a new token when that session ended without
// the whole release installed), then succeeded or failed. A firmware pair
// is installed when the device's Agent reported Success and succeeded
// when its next tc-list shows it booted. A pending delivery whose device
// already runs the release succeeds without being sent.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliverySent      DeliveryState = "sent"
	DeliveryInstalled DeliveryState = "installed"
	DeliverySucceeded DeliveryState = "succeeded"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one device of a rollout.
type Delivery struct {
	Rollout string
	Device  string
	Wave    int
	State   DeliveryState
	// Token is the token of the TEEP session whose Update last carried the
	// release; nil while pending.
	Token []byte
	// Sends counts the Updates that carried (part of) the release.
	Sends   int
	Detail  string // why it failed, or how it succeeded
	Updated time.Time
}

// WaveProgress counts the deliveries of one wave by state.
type WaveProgress struct {
	Wave                                        int
	Devices                                     int
	Pending, Sent, Installed, Succeeded, Failed int
}

// Rollouts are the rollouts and their deliveries.
type Rollouts interface {
	// CreateRollout stores r with one pending delivery per device, filling
	// r.Waves in order (len(devices) must be their sum), all in one
	// transaction. r must be running at wave 0. ErrExists when its ID is
	// taken, ErrNotFound when its release or a device is not stored,
	// ErrInvalid when a device appears twice.
	CreateRollout(ctx context.Context, r Rollout, devices []string) error
	Rollout(ctx context.Context, id string) (Rollout, error)
	// ListRollouts is every rollout, by Created, then ID.
	ListRollouts(ctx context.Context) ([]Rollout, error)
	// SetRolloutState moves the rollout from state from to state to, with
	// reason, at now, if it is in from (ErrConflict otherwise: another
	// operator or replica moved it first) and the move is allowed
	// (ValidRolloutMove, ErrInvalid otherwise).
	SetRolloutState(ctx context.Context, id string, from, to RolloutState, reason string, now time.Time) error
	// AdvanceWave starts wave from+1 if the rollout is running at wave
	// from and has a wave after it; ErrConflict otherwise (the wave was
	// started already, by this replica or another), so that a wave starts
	// once.
	AdvanceWave(ctx context.Context, id string, from int, now time.Time) error
	Delivery(ctx context.Context, rollout, device string) (Delivery, error)
	// Deliveries are a rollout's deliveries, by wave then device;
	// ErrNotFound when there is no such rollout.
	Deliveries(ctx context.Context, rollout string) ([]Delivery, error)
	// DeliveriesOf are every delivery of a device, by rollout ID.
	DeliveriesOf(ctx context.Context, device string) ([]Delivery, error)
	// MoveDelivery replaces the state, token, sends, detail and updated
	// time of the delivery (next.Rollout, next.Device) with next's if it
	// is in state from with token token (nil for none); ErrConflict
	// otherwise (another session or replica moved it first), ErrInvalid
	// when the move is not allowed (ValidDeliveryMove) or next's wave is
	// not the stored one.
	MoveDelivery(ctx context.Context, next Delivery, from DeliveryState, token []byte) error
	// Progress counts a rollout's deliveries by wave and state, one entry
	// per wave; ErrNotFound when there is no such rollout.
	Progress(ctx context.Context, rollout string) ([]WaveProgress, error)
}

// ValidateTags checks a tag list before it is stored.
func ValidateTags(tags []string) error {
	if len(tags) > MaxItems {
		return fmt.Errorf("%w: %d tags, more than %d", ErrInvalid, len(tags), MaxItems)
	}
	for i, tg := range tags {
		if err := key("tag", tg); err != nil {
			return err
		}
		if slices.Contains(tags[:i], tg) {
			return fmt.Errorf("%w: tag %q twice", ErrInvalid, tg)
		}
	}
	return nil
}

// Validate checks g before it is stored.
func (g Group) Validate() error {
	if (g.Members == nil) == g.Selector.IsZero() {
		return fmt.Errorf("%w: group %q: members or a selector, one of them", ErrInvalid, g.Name)
	}
	if g.Members != nil && len(g.Members) == 0 {
		return fmt.Errorf("%w: group %q: an empty member list", ErrInvalid, g.Name)
	}
	if err := distinct("group member", g.Members); err != nil {
		return err
	}
	return firstError(
		key("group name", g.Name),
		text("group model", g.Selector.Model, MaxKey),
		text("group version", g.Selector.Version, MaxKey),
		text("group tag", g.Selector.Tag, MaxKey),
		when("group created", g.Created),
	)
}

// Validate checks r before it is stored.
func (r Release) Validate() error {
	if len(r.Envelopes) == 0 {
		return fmt.Errorf("%w: release %q without envelopes", ErrInvalid, r.Name)
	}
	for i, d := range r.Envelopes {
		if slices.ContainsFunc(r.Envelopes[:i], func(o []byte) bool { return string(o) == string(d) }) {
			return fmt.Errorf("%w: release %q: envelope %x twice", ErrInvalid, r.Name, d)
		}
	}
	return firstError(
		key("release name", r.Name),
		digests("release envelope", r.Envelopes),
		when("release created", r.Created),
	)
}

// Validate checks r before it is stored.
func (r Rollout) Validate() error {
	if len(r.Waves) == 0 || len(r.Waves) > MaxWaves {
		return fmt.Errorf("%w: rollout %q: %d waves, not 1 to %d", ErrInvalid, r.ID, len(r.Waves), MaxWaves)
	}
	total := 0
	for i, n := range r.Waves {
		if n < 1 || n > MaxRolloutDevices {
			return fmt.Errorf("%w: rollout %q: wave %d of %d devices", ErrInvalid, r.ID, i, n)
		}
		total += n
	}
	switch {
	case total > MaxRolloutDevices:
		return fmt.Errorf("%w: rollout %q: %d devices, more than %d", ErrInvalid, r.ID, total, MaxRolloutDevices)
	case r.SuccessThreshold < 1 || r.SuccessThreshold > 100:
		return fmt.Errorf("%w: rollout %q: success threshold %d%%, not 1 to 100", ErrInvalid, r.ID, r.SuccessThreshold)
	case r.ErrorThreshold < 1 || r.ErrorThreshold > 100:
		return fmt.Errorf("%w: rollout %q: error threshold %d%%, not 1 to 100", ErrInvalid, r.ID, r.ErrorThreshold)
	case r.Wave < 0 || r.Wave >= len(r.Waves):
		return fmt.Errorf("%w: rollout %q: at wave %d of %d", ErrInvalid, r.ID, r.Wave, len(r.Waves))
	}
	return firstError(
		key("rollout id", r.ID),
		key("rollout group", r.Group),
		key("rollout release", r.Release),
		validRolloutState(r.State),
		text("rollout reason", r.Reason, MaxText),
		when("rollout created", r.Created),
		when("rollout updated", r.Updated),
	)
}

// Validate checks d before it is stored.
func (d Delivery) Validate() error {
	if d.Wave < 0 || d.Wave >= MaxWaves || d.Sends < 0 {
		return fmt.Errorf("%w: delivery of %q to %q: wave %d, sends %d", ErrInvalid, d.Rollout, d.Device, d.Wave, d.Sends)
	}
	return firstError(
		key("delivery rollout", d.Rollout),
		key("delivery device", d.Device),
		validDeliveryState(d.State),
		blob("delivery token", d.Token, 0, MaxKey),
		text("delivery detail", d.Detail, MaxText),
		when("delivery updated", d.Updated),
	)
}

func validRolloutState(st RolloutState) error {
	return oneOf("rollout state", string(st), string(RolloutRunning), string(RolloutPaused), string(RolloutHalted),
		string(RolloutCanceled), string(RolloutCompleted))
}

func validDeliveryState(st DeliveryState) error {
	return oneOf("delivery state", string(st), string(DeliveryPending), string(DeliverySent), string(DeliveryInstalled),
		string(DeliverySucceeded), string(DeliveryFailed))
}

// rolloutMoves are the allowed moves of a rollout: a running one pauses,
// halts, is canceled or completes; a paused one resumes or is canceled;
// a halted one is canceled. Canceled and completed are final.
var rolloutMoves = map[RolloutState][]RolloutState{
	RolloutRunning: {RolloutPaused, RolloutHalted, RolloutCanceled, RolloutCompleted},
	RolloutPaused:  {RolloutRunning, RolloutCanceled},
	RolloutHalted:  {RolloutCanceled},
}

// ValidRolloutMove checks that a rollout may move from one state to another.
func ValidRolloutMove(from, to RolloutState) error {
	if err := firstError(validRolloutState(from), validRolloutState(to)); err != nil {
		return err
	}
	if !slices.Contains(rolloutMoves[from], to) {
		return fmt.Errorf("%w: a rollout cannot move from %s to %s", ErrInvalid, from, to)
	}
	return nil
}

// deliveryMoves are the allowed moves of a delivery: only forward, except
// that a sent delivery is sent again (under the new session's token).
var deliveryMoves = map[DeliveryState][]DeliveryState{
	DeliveryPending:   {DeliverySent, DeliverySucceeded},
	DeliverySent:      {DeliverySent, DeliveryInstalled, DeliverySucceeded, DeliveryFailed},
	DeliveryInstalled: {DeliverySucceeded, DeliveryFailed},
}

// ValidDeliveryMove checks that a delivery may move from one state to
// another.
func ValidDeliveryMove(from, to DeliveryState) error {
	if err := firstError(validDeliveryState(from), validDeliveryState(to)); err != nil {
		return err
	}
	if !slices.Contains(deliveryMoves[from], to) {
		return fmt.Errorf("%w: a delivery cannot move from %s to %s", ErrInvalid, from, to)
	}
	return nil
}

// ValidateRolloutDevices checks the devices a rollout is created with.
func ValidateRolloutDevices(r Rollout, devices []string) error {
	total := 0
	for _, n := range r.Waves {
		total += n
	}
	if len(devices) != total {
		return fmt.Errorf("%w: rollout %q: %d devices for waves of %d", ErrInvalid, r.ID, len(devices), total)
	}
	return distinct("rollout device", devices)
}

// distinct checks a list of keys: each non-empty, within MaxKey, once.
func distinct(what string, ids []string) error {
	if len(ids) > MaxRolloutDevices {
		return fmt.Errorf("%w: %d of %s, more than %d", ErrInvalid, len(ids), what, MaxRolloutDevices)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := key(what, id); err != nil {
			return err
		}
		if seen[id] {
			return fmt.Errorf("%w: %s %q twice", ErrInvalid, what, id)
		}
		seen[id] = true
	}
	return nil
}
