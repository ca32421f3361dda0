package ta

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// sequences are what a TA manifest runs on the device.
var sequences = []int64{suit.KeyPayloadFetch, suit.KeyInstall, suit.KeyValidate}

// Errors of an install set.
var (
	// ErrInSet: the TA is already in the install set.
	ErrInSet = errors.New("ta: the TA is already in the install set")
	// ErrNotReady: an update's payloads have not all arrived, or it failed.
	ErrNotReady = errors.New("ta: the update is not ready to install")
	// ErrDelivery: a payload delivered twice, unknown, or of the wrong size.
	ErrDelivery = errors.New("ta: payload delivered twice, unknown, or of the wrong size")
)

// Installer installs TA manifests into a Store. Its fields are read only.
type Installer struct {
	Store Store
	// Keys decrypts encrypted payloads; nil decrypts none.
	Keys suit.KeySource
	// Authorizer is the device's key policy: it authenticates
	// dependencies and decides which components their signers may touch.
	Authorizer suit.Authorizer
	Identity   Identity
}

// Set is one install set of TA updates: Install applies all their
// changes to the store at once. Not safe for concurrent use.
type Set struct {
	in      *Installer
	updates []*Update
	held    uint64 // payload bytes the set holds or awaits
}

// NewSet starts an empty install set.
func (in *Installer) NewSet() *Set { return &Set{in: in} }

// Fetch is a payload an update needs from the normal world, whole.
type Fetch struct {
	Component suit.ComponentID
	URI       string
	// Size is the payload's size on the wire: the ciphertext's when it
	// is decrypted on arrival.
	Size uint64
}

// Update is one TA envelope of a set.
type Update struct {
	set      *Set
	v        *suit.Verified
	envelope []byte // as the store keeps it: without integrated payloads
	platform *taPlatform
	fetches  []Fetch
	arrived  int
	changes  []Record
	ready    bool
	failed   bool
}

// Plan adds a verified envelope to the set. Its manifest runs once with
// fetches recorded rather than done: the device's identity, the sequence
// numbers and everything that needs no fetched payload are checked now,
// written content is decrypted already. It returns the update, the
// payloads it needs (Deliver them), and the processing result, for a
// report, also on error. An update that needs no payload is applied at
// once. A TA already in the set is ErrInSet; a set that would hold more
// than MaxSetBytes is refused (suit.ErrRejected).
func (s *Set) Plan(ctx context.Context, v *suit.Verified) (*Update, []Fetch, *suit.Result, error) {
	for _, u := range s.updates {
		for _, id := range Touched(v.Manifest) {
			if slices.ContainsFunc(Touched(u.v.Manifest), id.Equal) {
				return nil, nil, nil, fmt.Errorf("%w: %s", ErrInSet, id)
			}
		}
	}
	plat := newTAPlatform(s.in.Identity, s.in.Store, s.in.Keys)
	res, err := suit.Process(ctx, v, plat, suit.Options{Sequences: sequences, Authorizer: s.in.Authorizer})
	if err != nil {
		return nil, nil, res, err
	}
	var incoming uint64
	for _, f := range plat.requests {
		incoming += f.size
	}
	if s.held+incoming > MaxSetBytes {
		return nil, nil, res, fmt.Errorf("%w: a TA install set of more than %d bytes", suit.ErrRejected, MaxSetBytes)
	}
	stored := *v.Envelope
	stored.Integrated = nil
	u := &Update{set: s, v: v, envelope: stored.Encode(), platform: plat}
	for _, f := range plat.requests {
		u.fetches = append(u.fetches, Fetch{Component: f.id, URI: f.uri, Size: f.size})
	}
	s.held += incoming
	s.updates = append(s.updates, u)
	if len(u.fetches) == 0 {
		res, err := u.apply(ctx)
		return u, nil, res, err
	}
	return u, u.fetches, res, nil
}

// Deliver gives the update the whole payload of its fetch i. Once every
// payload has arrived the manifest runs again for real: every fetch
// checked against its digest, every encrypted payload decrypted, every
// condition evaluated on the real content; only then do the components'
// contents become changes to the store. It returns the result of that
// run (nil while payloads are missing); a failure fails the update.
func (u *Update) Deliver(ctx context.Context, i int, data []byte) (*suit.Result, error) {
	if u.ready || u.failed || i < 0 || i >= len(u.fetches) || u.platform.requests[i].data != nil ||
		uint64(len(data)) != u.fetches[i].Size {
		return nil, ErrDelivery
	}
	u.platform.requests[i].data = data
	u.arrived++
	if u.arrived < len(u.fetches) {
		return nil, nil
	}
	return u.apply(ctx)
}

// apply runs the manifest again on the delivered payloads.
func (u *Update) apply(ctx context.Context) (*suit.Result, error) {
	u.platform.startApply()
	m := u.v.Manifest
	res, err := suit.Process(ctx, u.v, u.platform, suit.Options{Sequences: sequences, Authorizer: u.set.in.Authorizer})
	if err == nil {
		u.changes, err = u.platform.changes(m.Components, m.SequenceNumber, u.envelope)
	}
	if err != nil {
		u.failed = true
		return res, err
	}
	u.ready = true
	return res, nil
}

// Ready reports whether the update is applied and waits for Install.
func (u *Update) Ready() bool { return u.ready }

// Failed reports whether the update failed.
func (u *Update) Failed() bool { return u.failed }

// Verified is the update's envelope, verified.
func (u *Update) Verified() *suit.Verified { return u.v }

// Envelope is the update's envelope as the store keeps it.
func (u *Update) Envelope() []byte { return u.envelope }

// TAs lists the TAs the update touches.
func (u *Update) TAs() []suit.ComponentID { return Touched(u.v.Manifest) }

// Updates lists the set's updates in the order they were planned.
func (s *Set) Updates() []*Update { return slices.Clone(s.updates) }

// Install writes every change of the set into the store at once, and
// returns the records written. Every update must be ready (ErrNotReady);
// if the store refuses, every update fails and the store is unchanged.
func (s *Set) Install() ([]Record, error) {
	var all []Record
	for _, u := range s.updates {
		if !u.ready {
			return nil, fmt.Errorf("%w: an update of %v", ErrNotReady, u.TAs())
		}
		all = append(all, u.changes...)
	}
	if err := s.in.Store.Apply(all); err != nil {
		for _, u := range s.updates {
			u.failed, u.ready = true, false
		}
		return nil, err
	}
	return all, nil
}
