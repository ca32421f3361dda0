package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
)

// FirmwarePrefix is the first part of the component identifiers the
// TAStore treats as firmware: staged at commit, applied at the next
// reboot.
const FirmwarePrefix = "fw"

// ErrInjected is the failure a device with FailInstall plays.
var ErrInjected = errors.New("fleet: injected install failure")

// TAStore is the TA store of a light device, in memory: it installs an
// envelope only if it authenticates with an author's key, as the secure
// world does; firmware components are staged and run after Reboot (or
// not, for a device that rolls back). It records every set it was given.
type TAStore struct {
	mu       sync.Mutex
	authors  []*suit.Key
	fail     bool
	rollBack bool
	running  map[string]teep.TC
	staged   map[string]teep.TC
	pending  map[string]teep.TC
	sets     int
	installs int
}

// NewTAStore is an empty TA store trusting authors.
func NewTAStore(authors []*suit.Key, fail, rollBack bool) *TAStore {
	return &TAStore{authors: authors, fail: fail, rollBack: rollBack, running: map[string]teep.TC{}}
}

// Installed lists what runs.
func (m *TAStore) Installed() ([]teep.TC, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]teep.TC, 0, len(m.running))
	for _, tc := range m.running {
		out = append(out, tc)
	}
	return out, nil
}

// Wanted is nothing: the device asks for no TC by itself.
func (m *TAStore) Wanted() ([]teep.RequestedTC, error) { return nil, nil }

// Unlink removes TCs.
func (m *TAStore) Unlink(_ context.Context, ids []teep.ComponentID) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.running, suit.ComponentID(id).String())
	}
	return nil, nil
}

// Start authenticates a set's envelopes; nothing is installed until
// Commit. Their payloads are integrated: the set waits for none.
func (m *TAStore) Start(_ context.Context, envelopes [][]byte) (teep.InstallSet, [][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets++
	if m.fail {
		return teep.InstallSet{}, nil, ErrInjected
	}
	add := map[string]teep.TC{}
	for _, raw := range envelopes {
		env, err := suit.ParseEnvelope(raw)
		if err != nil {
			return teep.InstallSet{}, nil, err
		}
		v, err := env.Authenticate(m.authors)
		if err != nil {
			return teep.InstallSet{}, nil, err
		}
		for _, c := range v.Manifest.Components {
			add[c.String()] = teep.TC{ID: teep.ComponentID(c), SequenceNumber: v.Manifest.SequenceNumber}
		}
	}
	m.pending = add
	return teep.InstallSet{Set: uint64(m.sets)}, nil, nil
}

// Commit installs the set: TAs at once, firmware staged for the reboot.
func (m *TAStore) Commit(_ context.Context, set uint64) (bool, [][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending == nil {
		return false, nil, fmt.Errorf("fleet: commit of set %d, none started", set)
	}
	reboot := false
	for k, tc := range m.pending {
		if len(tc.ID) > 0 && string(tc.ID[0]) == FirmwarePrefix {
			if m.staged == nil {
				m.staged = map[string]teep.TC{}
			}
			m.staged[k] = tc
			reboot = true
			continue
		}
		m.running[k] = tc
	}
	m.pending = nil
	m.installs++
	return reboot, [][]byte{{0xa0}}, nil
}

// Cancel drops the set started.
func (m *TAStore) Cancel(context.Context, uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = nil
	return nil
}

// Reboot applies the staged firmware, unless the device rolls back.
func (m *TAStore) Reboot() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.rollBack {
		for k, tc := range m.staged {
			m.running[k] = tc
		}
	}
	m.staged = nil
}

// Runs is the sequence number of the component it runs, and whether it
// runs it.
func (m *TAStore) Runs(c suit.ComponentID) (uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tc, ok := m.running[c.String()]
	return tc.SequenceNumber, ok
}

// FailInstalls makes every install set from now on fail (fail) or not:
// a device that turns bad after its rollout's waves were drawn.
func (m *TAStore) FailInstalls(fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = fail
}

// Sets counts the install sets the device was given; Installs those it
// committed.
func (m *TAStore) Sets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sets
}

// Installs counts the install sets committed.
func (m *TAStore) Installs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.installs
}

// SetFail makes the install sets from now on fail (true) or work.
func (m *TAStore) SetFail(fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = fail
}
