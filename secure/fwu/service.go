package fwu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
)

// Errors, each for one kind of refusal.
var (
	ErrBusy       = errors.New("fwu: another update is in progress")
	ErrBadState   = errors.New("fwu: not allowed in this state")
	ErrOutOfRange = errors.New("fwu: chunk out of order, overlapping or past the declared size")
	ErrNotFound   = errors.New("fwu: no such update set or payload")
)

// PayloadRequest asks the normal world for the bytes of a payload.
type PayloadRequest struct {
	Index     uint32
	Component suit.ComponentID
	URI       string
	Size      uint64
}

// Config is what a Service is built with. The zero value of a field means
// the real clock and the default bound.
type Config struct {
	// Now is the clock that times an install set's progress.
	Now func() time.Time
	// StallTimeout is how long an install set may make no progress before
	// the service abandons it; 0 means DefaultStallTimeout.
	StallTimeout time.Duration
}

// Service is the update service. It is safe for concurrent use; calls are
// serialized, as the one channel to the normal world would have them.
type Service struct {
	mu     sync.Mutex
	boot   *boot.Device
	policy *keys.Policy
	keys   suit.KeySource // the device's decryption keys
	tas    *ta.Installer
	now    func() time.Time
	stall  time.Duration
	set    *updateSet
	nextID uint64
	// The outcomes of the sets this process installed or decided, for
	// Query.
	accepted, rejected map[boot.Component]bool
	updatedTAs         map[string]bool
	last               *Outcome // of the last envelope started, refused or failed
}

// updateSet is the install set in progress: firmware images, or TA
// updates (tas), never both.
type updateSet struct {
	id       uint64
	payloads []*payload
	tas      *ta.Set // nil for a firmware set
	failed   error
	progress time.Time // when the set last moved: created, joined, a chunk, a finish
}

// payload is one payload of the set as the normal world sends it.
type payload struct {
	index   uint32
	uri     string
	size    uint64 // on the wire
	written uint64 // bytes arrived
	state   State
	dest    destination
}

// New makes the service over a booted bootloader, with the device's
// decryption keys and the TA installer (whose Store is the secure
// storage).
func New(b *boot.Device, policy *keys.Policy, deviceKeys suit.KeySource, tas *ta.Installer, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	return &Service{boot: b, policy: policy, keys: deviceKeys, tas: tas, now: cfg.Now, stall: cfg.StallTimeout, nextID: 1,
		accepted: map[boot.Component]bool{}, rejected: map[boot.Component]bool{}, updatedTAs: map[string]bool{}}
}

// StartUpdate authenticates and authorizes an envelope for one component,
// checks it against the device (identity, sequence number) by running its
// install sequence with fetches recorded rather than done, opens the
// component's staging slot, and returns what the normal world must fetch.
// A second envelope for another component joins the same install set.
func (s *Service) StartUpdate(ctx context.Context, raw []byte) (uint64, []PayloadRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startUpdate(ctx, raw)
}

func (s *Service) startUpdate(ctx context.Context, raw []byte) (uint64, []PayloadRequest, error) {
	if err := s.expire(); err != nil {
		return 0, nil, err
	}
	if s.set != nil && s.set.failed != nil {
		// A failed set is abandoned by the next update.
		if err := s.abandon(); err != nil {
			return 0, nil, err
		}
	}
	state, _, err := s.boot.Operation()
	if err != nil {
		return 0, nil, err
	}
	if state != boot.OpIdle {
		return 0, nil, fmt.Errorf("%w: an install set is %s", ErrBusy, state)
	}
	v, err := s.policy.Verify(raw)
	if err != nil {
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Err: err})
	}
	if ta.IsManifest(v.Manifest) {
		return s.startTA(ctx, raw, v)
	}
	if s.set != nil && s.set.tas != nil {
		return 0, nil, fmt.Errorf("%w: the install set holds TAs; firmware goes in a set of its own", ErrBusy)
	}
	if len(v.Manifest.Components) != 1 {
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Verified: v,
			Err: fmt.Errorf("%w: an update names one component per envelope", suit.ErrUnsupportedComponent)})
	}
	comp, ok := boot.ComponentByID(v.Manifest.Components[0])
	if !ok {
		return 0, nil, s.refuse(&Outcome{Envelope: raw, Verified: v,
			Err: fmt.Errorf("%w: no component %s on this device", suit.ErrUnsupportedComponent, v.Manifest.Components[0])})
	}
	if s.set != nil {
		for _, p := range s.set.payloads {
			if im, ok := p.dest.(*image); ok && im.comp == comp {
				return 0, nil, fmt.Errorf("%w: %s is already in the install set", ErrBusy, comp)
			}
		}
	}
	plan := &planPlatform{boot: s.boot, comp: comp}
	res, err := suit.Process(ctx, v, plan, suit.Options{Sequences: []int64{suit.KeyPayloadFetch, suit.KeyInstall}, Authorizer: s.policy})
	refused := func(err error) error { return s.refuse(&Outcome{Envelope: raw, Verified: v, Result: res, Err: err}) }
	if err != nil {
		return 0, nil, refused(err)
	}
	if plan.uri == "" && plan.written == nil {
		return 0, nil, refused(fmt.Errorf("%w: the manifest installs nothing into %s", suit.ErrRejected, comp))
	}
	stored := *v.Envelope
	stored.Integrated = nil
	if plan.size > uint64(s.boot.Layout().MaxImage()) {
		return 0, nil, refused(fmt.Errorf("%w: an image of %d bytes does not fit the slot", suit.ErrRejected, plan.size))
	}
	w, err := s.boot.OpenStaging(comp, int(plan.size))
	if err != nil {
		return 0, nil, err
	}
	h, _ := suit.NewHash(plan.digest.Alg)
	im := &image{comp: comp, digest: plan.digest, envelope: stored.Encode(), v: v, planned: res, w: w, h: h}
	im.pl = newPipeline(h, w)
	im.sink = im.pl
	if plan.encInfo != nil {
		if im.dec, err = suit.NewDecryptWriter(im.sink, plan.encInfo, s.keys); err != nil {
			im.release()
			return 0, nil, refused(err)
		}
		im.sink = im.dec
	}
	s.openSet(nil)
	p := &payload{index: uint32(len(s.set.payloads)), uri: plan.uri, size: plan.wire, state: Writing, dest: im}
	s.set.payloads = append(s.set.payloads, p)
	delete(s.accepted, comp)
	delete(s.rejected, comp)
	var reqs []PayloadRequest
	if plan.written != nil {
		// An integrated payload is in hand: write it now.
		if err := s.write(p, 0, plan.written); err != nil {
			return 0, nil, err
		}
		if err := s.finish(ctx, p); err != nil {
			return 0, nil, err
		}
	} else {
		reqs = append(reqs, PayloadRequest{Index: p.index, Component: comp.ID(), URI: p.uri, Size: p.size})
	}
	s.last = &Outcome{Envelope: raw, Verified: v, Result: res}
	return s.set.id, reqs, nil
}

// openSet makes an install set unless one is open (a TA set when tas is
// set), and counts its progress from now.
func (s *Service) openSet(tas *ta.Set) {
	if s.set == nil {
		s.set = &updateSet{id: s.nextID, tas: tas}
		s.nextID++
	}
	s.set.progress = s.now()
}

// payload finds a payload of the set in progress, once a set that made no
// progress for too long is abandoned.
func (s *Service) payload(set uint64, index uint32) (*payload, error) {
	if err := s.expire(); err != nil {
		return nil, err
	}
	if s.set == nil || s.set.id != set || index >= uint32(len(s.set.payloads)) {
		return nil, ErrNotFound
	}
	if s.set.failed != nil {
		//nolint:errorlint // the earlier failure is context: this call is refused for the state (ErrBadState), not for that cause
		return nil, fmt.Errorf("%w: %w: %v", ErrBadState, ErrSetFailed, s.set.failed)
	}
	return s.set.payloads[index], nil
}

// WriteChunk hashes and writes the next bytes of a payload. Chunks must
// come in order, each starting where the last ended, within the size the
// manifest declared.
func (s *Service) WriteChunk(_ context.Context, set uint64, index uint32, offset uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.payload(set, index)
	if err != nil {
		return err
	}
	if p.state != Writing {
		return fmt.Errorf("%w: payload %d is %s", ErrBadState, index, p.state)
	}
	return s.write(p, offset, data)
}

// ChunkBuffer returns a buffer for the next n bytes of a firmware
// payload, for the caller to fill and pass to WriteChunk, which then takes
// them without copying them: a buffer of the pipeline that hashes and
// programs a plain payload, the decryption buffer of an encrypted one.
// nil for any other payload. It may wait until the payload's last bytes
// are programmed.
func (s *Service) ChunkBuffer(set uint64, index uint32, n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.payload(set, index)
	if err != nil || p.state != Writing {
		return nil
	}
	return p.dest.lend(n)
}

func (s *Service) write(p *payload, offset uint64, data []byte) error {
	if offset != p.written || uint64(len(data)) > p.size-p.written {
		return fmt.Errorf("%w: %d bytes at %d, %d of %d written", ErrOutOfRange, len(data), offset, p.written, p.size)
	}
	if _, err := p.dest.Write(data); err != nil {
		return s.fail(p, nil, err)
	}
	p.written += uint64(len(data))
	s.set.progress = s.now()
	return nil
}

// Finish closes a payload: all its bytes are there and their digest is the
// manifest's. A digest mismatch fails the whole install set.
func (s *Service) Finish(ctx context.Context, set uint64, index uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.payload(set, index)
	if err != nil {
		return err
	}
	if p.state != Writing {
		return fmt.Errorf("%w: payload %d is %s", ErrBadState, index, p.state)
	}
	if err := s.finish(ctx, p); err != nil {
		return err
	}
	s.set.progress = s.now()
	return nil
}

func (s *Service) finish(ctx context.Context, p *payload) error {
	if p.written != p.size {
		return fmt.Errorf("%w: %d of %d bytes written", ErrBadState, p.written, p.size)
	}
	if o, err := p.dest.finish(ctx, p.index); err != nil {
		return s.fail(p, o, err)
	}
	p.state = Candidate
	return nil
}

// fail marks the set failed: all or nothing, it cannot be installed. The
// error carries the outcome o (nil: err alone).
func (s *Service) fail(p *payload, o *Outcome, err error) error {
	p.state = Failed
	s.set.failed = err
	s.set.release()
	if o == nil {
		o = &Outcome{Err: err}
	}
	return s.refuse(o)
}

// release stops the pipelines of the set's payloads, once what they hold
// is programmed: the set is abandoned, or every payload is finished.
func (u *updateSet) release() {
	for _, p := range u.payloads {
		p.dest.release()
	}
}

// Install installs the set: every payload must be a candidate. The
// bootloader verifies every image again and commits them together; the
// next reboot applies them, all or none.
func (s *Service) Install(ctx context.Context, set uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return err
	}
	if s.set == nil || s.set.id != set {
		return ErrNotFound
	}
	if s.set.failed != nil {
		//nolint:errorlint // the earlier failure is context: this call is refused for the state (ErrBadState), not for that cause
		return fmt.Errorf("%w: %w: %v", ErrBadState, ErrSetFailed, s.set.failed)
	}
	if s.set.tas != nil {
		return s.installTAs()
	}
	var comps []boot.Component
	sums := map[boot.Component][]byte{}
	for _, p := range s.set.payloads {
		if p.state != Candidate {
			return fmt.Errorf("%w: payload %d is %s, not a candidate", ErrBadState, p.index, p.state)
		}
		im := p.dest.(*image)
		comps = append(comps, im.comp)
		if im.sha256 != nil {
			sums[im.comp] = im.sha256
		}
	}
	if err := s.boot.CommitStreamed(ctx, comps, sums); err != nil {
		s.set.failed = err
		for _, p := range s.set.payloads {
			p.state = Failed
		}
		return err
	}
	s.set = nil
	return nil
}

// Cancel abandons the install set set (0: whichever is in progress)
// before it is installed, as PSA FWU's cancel does: its payloads stop, the
// staging slots it opened are erased so that nothing it wrote can be
// committed, and the service is idle again, ready for the next update.
// With no set in progress there is nothing to cancel and it returns nil;
// a set that is not the one in progress is ErrNotFound, so that a stale
// cancel cannot abandon another update. An installed set is not
// cancelled: it is in the bootloader's hands (reject it in trial).
func (s *Service) Cancel(_ context.Context, set uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return err
	}
	if s.set == nil {
		return nil
	}
	if set != 0 && s.set.id != set {
		return ErrNotFound
	}
	return s.abandon()
}

// Clean erases the staging slots of the firmware components, as PSA FWU's
// clean erases a failed or cancelled image: what a failed update, or one
// cut short by a restart, left there. A failed install set is abandoned
// first. It is refused (ErrBusy) while an install set is being written
// (cancel it first) or is installed and not yet accepted or rejected.
func (s *Service) Clean(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return err
	}
	if s.set != nil {
		if s.set.failed == nil {
			return fmt.Errorf("%w: an install set is being written; cancel it first", ErrBusy)
		}
		if err := s.abandon(); err != nil {
			return err
		}
	}
	state, _, err := s.boot.Operation()
	if err != nil {
		return err
	}
	if state != boot.OpIdle {
		return fmt.Errorf("%w: an install set is %s", ErrBusy, state)
	}
	for _, c := range boot.Components {
		if err := s.boot.DiscardStaging(c); err != nil {
			return err
		}
	}
	return nil
}

// expire abandons the install set in progress once it has made no
// progress for the stall timeout.
func (s *Service) expire() error {
	if s.set == nil || s.now().Sub(s.set.progress) < s.stall {
		return nil
	}
	return s.abandon()
}

// abandon drops the install set in progress: its pipelines stop once what
// they hold is programmed, then each staging slot it opened is erased.
// The set is gone even if an erase fails (that error is returned): a
// slot left with an image is still committed only by an install set.
func (s *Service) abandon() error {
	u := s.set
	s.set = nil
	u.release()
	var errs []error
	for _, p := range u.payloads {
		if im, ok := p.dest.(*image); ok {
			errs = append(errs, s.boot.DiscardStaging(im.comp))
		}
	}
	return errors.Join(errs...)
}

// Accept confirms the running trial. With no trial it is ErrBadState.
func (s *Service) Accept(ctx context.Context) error {
	return s.decide(ctx, s.boot.Accept, s.accepted)
}

// Reject reverts the running trial. With no trial it is ErrBadState.
func (s *Service) Reject(ctx context.Context) error {
	return s.decide(ctx, s.boot.Reject, s.rejected)
}

// decide applies accept or reject to the whole set in trial and
// remembers it for Query.
func (s *Service) decide(ctx context.Context, apply func(context.Context) error, mark map[boot.Component]bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	comps, err := s.trialComponents(ctx)
	if err != nil {
		return err
	}
	if err := apply(ctx); err != nil {
		return err
	}
	for _, c := range comps {
		mark[c] = true
	}
	return nil
}

func (s *Service) trialComponents(context.Context) ([]boot.Component, error) {
	state, set, err := s.boot.Operation()
	if err != nil {
		return nil, err
	}
	if state != boot.OpTrial {
		return nil, fmt.Errorf("%w: no trial is running (state %s)", ErrBadState, state)
	}
	return set, nil
}

// ComponentInfo is what Query reports for a component.
type ComponentInfo struct {
	ID             suit.ComponentID
	State          State
	SequenceNumber uint64
	Digest         []byte
	Size           uint64
}

// Query reports every component: its state and the image it runs.
func (s *Service) Query(ctx context.Context) ([]ComponentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expire(); err != nil {
		return nil, err
	}
	state, set, err := s.boot.Operation()
	if err != nil {
		return nil, err
	}
	images, err := s.running(ctx)
	if err != nil {
		return nil, err
	}
	var out []ComponentInfo
	for i, c := range boot.Components {
		info := ComponentInfo{ID: c.ID(), State: Ready}
		if img := images[i]; img != nil {
			info.SequenceNumber, info.Digest, info.Size = img.SequenceNumber, img.ImageDigest, uint64(img.Size)
		}
		inSet := false
		for _, tc := range set {
			inSet = inSet || tc == c
		}
		switch {
		case inSet && state == boot.OpStaged:
			info.State = Staged
		case inSet && state == boot.OpTrial:
			info.State = Trial
		case inSet:
			info.State = Staged // confirming or reverting: finished at the next reboot
		case s.accepted[c]:
			info.State = Updated
		case s.rejected[c]:
			info.State = Rejected
		}
		if s.set != nil {
			for _, p := range s.set.payloads {
				if im, ok := p.dest.(*image); ok && im.comp == c {
					info.State = p.state
				}
			}
		}
		out = append(out, info)
	}
	return append(out, s.queryTAs()...), nil
}

// running returns the image each component runs, by boot.Components: what
// the bootloader verified at the last boot, without hashing anything
// again; before any boot, what the primary slots verify as now.
func (s *Service) running(ctx context.Context) ([]*boot.Image, error) {
	if imgs := s.boot.Running(); imgs != nil {
		return imgs, nil
	}
	st, err := s.boot.Status(ctx)
	if err != nil {
		return nil, err
	}
	imgs := make([]*boot.Image, len(st.Components))
	for i, c := range st.Components {
		imgs[i] = c.Primary.Image
	}
	return imgs, nil
}
