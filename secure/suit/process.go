package suit

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Procedures, as lists of sequences run in order (draft-37 §8.4.6,
// trust-domains §7). Sequences a manifest lacks are skipped.
var (
	// UpdateProcedure resolves dependencies, fetches, verifies the
	// candidate set, installs and validates.
	UpdateProcedure = []int64{KeyDependencyResolution, KeyPayloadFetch, KeyCandidateVerification, KeyInstall, KeyValidate}
	// InvocationProcedure validates, loads and invokes.
	InvocationProcedure = []int64{KeyValidate, KeyLoad, KeyInvoke}
	// FullProcedure is an update followed by an invocation.
	FullProcedure = []int64{KeyDependencyResolution, KeyPayloadFetch, KeyCandidateVerification, KeyInstall,
		KeyValidate, KeyLoad, KeyInvoke}
	// StagingProcedure and InstallationProcedure split the update between
	// trust domains (trust-domains §7).
	StagingProcedure      = []int64{KeyDependencyResolution, KeyPayloadFetch}
	InstallationProcedure = []int64{KeyCandidateVerification, KeyInstall}
	// UninstallProcedure removes what a manifest installed.
	UninstallProcedure = []int64{KeyUninstall}
)

// Options tune a processing run.
type Options struct {
	// Sequences to run, in order; nil means FullProcedure. The shared
	// sequence runs before each one that is present.
	Sequences []int64
	// OnRecord, when set, sees each record as it is made.
	OnRecord func(Record)
	// Details fills Record.Detail (what each command consumed or chose)
	// for a readable trace. Off, records carry only the command, component,
	// policy and result: what a device needs for its report.
	Details bool
	// Report fills Record.Properties wherever the reporting policy asks
	// for a record or system information, for NewReport. It costs an
	// allocation per such command, so it is off unless a report is to
	// be made; the failing command's properties are kept regardless.
	Report bool
	// Authorizer is the trust policy: it authenticates dependencies and
	// says which components each manifest's signers may touch. With one,
	// every command that changes or runs a component (fetch, write, copy,
	// swap, invoke, unlink) is checked against the signers of the manifest
	// that holds it and of the dependencies it has verified, and a root
	// manifest-component-id against the root's signers. Without one,
	// nothing is checked here (authorization is the caller's, as
	// Verified.Signers allows) and a manifest that processes a dependency
	// is refused, since the dependency could not be authenticated.
	Authorizer Authorizer
}

// Process runs an authenticated manifest against a platform. It first
// checks the sequence number against the one the platform stores for
// every component of the manifest (a lower one is ErrRollback), then runs
// the shared sequence before each requested sequence. Severed sequences
// that the envelope does not carry are skipped and listed in
// Result.Skipped. The returned Result holds the trace also on error.
//
// Dependencies (draft-ietf-suit-trust-domains) run in lockstep with their
// dependent: process-dependency runs the dependency's shared sequence and
// its section of the same name, after authenticating it with
// Options.Authorizer. The processor does not enforce the draft's check
// that, at the end of each section of a dependent, the same section of
// every dependency has run: the draft's own Appendix B examples invoke
// without processing their dependency's invoke.
func Process(ctx context.Context, v *Verified, p Platform, opts Options) (*Result, error) {
	m := v.Manifest
	res := &Result{SequenceNumber: m.SequenceNumber, Records: make([]Record, 0, 32)}
	res.manifests = append(res.manifestsRoot[:0], manifestInfo{components: m.IDs()})
	if err := checkRollback(p, m); err != nil {
		return res, err
	}
	if opts.Authorizer != nil && m.ComponentID != nil && !opts.Authorizer.MayTouch(v.Signers, m.ComponentID) {
		// Where a root manifest is stored is a component like any other
		// (trust-domains §9): its signers must have it.
		return res, fmt.Errorf("manifest component id %s: %w", m.ComponentID, ErrUnauthorized)
	}
	seqs := opts.Sequences
	if seqs == nil {
		seqs = FullProcedure
	}
	pr := &processor{ctx: ctx, p: p, res: res, onRecord: opts.OnRecord, details: opts.Details, report: opts.Report,
		auth: opts.Authorizer, budget: MaxCommandsExecuted}
	pr.root = frame{v: v, m: m, ids: m.IDs(), sets: make([]ParamSet, len(m.IDs()))}
	pr.f = &pr.root
	for _, key := range seqs {
		if err := pr.section(key, ""); err != nil {
			return res, err
		}
	}
	return res, nil
}

// checkRollback refuses a manifest whose sequence number is below the one
// the platform stores for any of its components.
func checkRollback(p Platform, m *Manifest) error {
	for _, id := range m.Components {
		stored, err := p.SequenceNumber(id)
		if err != nil {
			return fmt.Errorf("sequence number of %s: %w", id, err)
		}
		if m.SequenceNumber < stored {
			return fmt.Errorf("component %s: manifest %d < stored %d: %w", id, m.SequenceNumber, stored, ErrRollback)
		}
	}
	return nil
}

// section runs the shared sequence and then sequence key of the current
// manifest, if it has that sequence; where names the manifest in
// Result.Ran and Skipped ("" for the root).
func (pr *processor) section(key int64, where string) error {
	m := pr.f.m
	mem, ok := m.Members[key]
	if !ok {
		return nil
	}
	name := SequenceName(key) + where
	if !mem.Present() {
		pr.res.Skipped = append(pr.res.Skipped, name)
		return nil
	}
	pr.res.Ran = append(pr.res.Ran, name)
	if m.Shared != nil {
		if err := pr.top(KeyCommon, m.Shared); err != nil {
			return err
		}
	}
	return pr.top(key, mem.Commands)
}

type processor struct {
	ctx      context.Context
	p        Platform
	res      *Result
	onRecord func(Record)
	details  bool
	report   bool
	auth     Authorizer
	// depChecks counts dependency authentications, against MaxDependencies.
	depChecks int
	root      frame  // the manifest given to Process
	f         *frame // the manifest running: root, or a dependency
	cur       []int  // current component index list
	// single holds, per nesting depth, the one-index list that forEach
	// gives nested sequences, so that iterating allocates nothing.
	single  [MaxSequenceDepth + 2][1]int
	first   [1]int // {0}: the index list each sequence starts with
	seqName string
	key     int64    // manifest key of the sequence running (KeyCommon: shared)
	meas    ParamSet // what the running command measured on the device
	depth   int
	budget  int
}

func (pr *processor) top(key int64, seq Sequence) error {
	name := "shared-sequence"
	if key != KeyCommon {
		name = SequenceName(key)
	}
	name += pr.f.label
	// Component 0 until set-component-index says otherwise; the array is
	// never written through pr.cur, so it can be shared by every sequence.
	pr.seqName, pr.key, pr.depth, pr.cur = name, key, 0, pr.first[:]
	if len(pr.f.ids) > 1 && seq[0].Code != DirSetComponentIndex && seq[0].Code != DirOverrideMultiple {
		// draft-37 §8.2: with several components every sequence names its
		// component first, so nothing is applied to component 0 by accident.
		// override-multiple names its components too: it is an alias of
		// set-component-index and override-parameters (update-management
		// §6.7), and leaves the last one it lists selected.
		return &CommandError{Sequence: name, Command: CommandName(seq[0].Code), Component: -1,
			Err: malformed("sequence of a multi-component manifest must begin with set-component-index or override-multiple")}
	}
	_, err := pr.exec(seq, false)
	return err
}

func (pr *processor) record(r Record) {
	r.Sequence, r.Section, r.Depth, r.Manifest = pr.seqName, pr.key, pr.depth, pr.f.index
	pr.res.Records = append(pr.res.Records, r)
	if pr.onRecord != nil {
		pr.onRecord(r)
	}
}

func (pr *processor) target(i int) Target {
	return Target{Index: i, ID: pr.f.ids[i], Params: pr.f.param(i)}
}

// exec runs one sequence with soft failure initialised to soft, and
// returns the soft-failure value in force when the sequence ended, so that
// the caller can tell a soft condition failure from a hard one.
func (pr *processor) exec(seq Sequence, soft bool) (bool, error) {
	for _, cmd := range seq {
		if err := pr.ctx.Err(); err != nil {
			return soft, err
		}
		var err error
		switch cmd.Code {
		case DirSetComponentIndex:
			err = pr.setIndex(cmd)
		case DirOverrideParameters, DirSetParameters:
			soft, err = pr.override(cmd, soft)
		case DirOverrideMultiple:
			soft, err = pr.overrideMultiple(cmd, soft)
		case DirTryEach:
			err = pr.forEach(cmd, pr.tryEach)
		case DirRunSequence:
			err = pr.forEach(cmd, pr.runSequence)
		default:
			err = pr.forEach(cmd, pr.simple)
		}
		if err != nil {
			return soft, err
		}
	}
	return soft, nil
}

func (pr *processor) spend() error {
	pr.budget--
	if pr.budget < 0 {
		return ErrTooComplex
	}
	return nil
}

func (pr *processor) setIndex(cmd Command) error {
	idx := cmd.Index
	n := len(pr.f.ids)
	// Setting the index costs what it selects, so that a run of
	// set-component-index true cannot do unbounded work for free.
	cost := len(idx.Indices)
	if idx.All {
		cost = n
	}
	for range cost {
		if err := pr.spend(); err != nil {
			return err
		}
	}
	if idx.All {
		// A fresh list: pr.cur may alias a list an enclosing loop iterates.
		pr.cur = make([]int, n)
		for i := range pr.cur {
			pr.cur[i] = i
		}
	} else {
		cur := make([]int, 0, len(idx.Indices))
		for _, i := range idx.Indices {
			if i >= uint64(n) {
				err := malformed("component index %d of %d components", i, n)
				pr.record(Record{Command: CommandName(DirSetComponentIndex), Offset: cmd.Offset, Component: -1, Err: err})
				return &CommandError{Sequence: pr.seqName, Command: CommandName(DirSetComponentIndex), Component: -1,
					Manifest: pr.f.index, Offset: cmd.Offset, Err: err}
			}
			cur = append(cur, int(i))
		}
		pr.cur = cur
	}
	r := Record{Command: CommandName(DirSetComponentIndex), Offset: cmd.Offset, Component: -1}
	if pr.details {
		r.Detail = fmt.Sprint(pr.cur)
	}
	pr.record(r)
	return nil
}

func (pr *processor) override(cmd Command, soft bool) (bool, error) {
	p := cmd.Params
	var names string
	if pr.details {
		list := make([]string, 0, len(p))
		for k := range p {
			list = append(list, ParamName(k))
		}
		slices.Sort(list)
		names = strings.Join(list, ",")
	}
	if v, ok := p.Bool(ParamSoftFailure); ok {
		var err error
		switch {
		case cmd.Code == DirSetParameters:
			// Set-if-unset makes no sense for soft failure, which is not
			// a component's parameter.
			err = malformed("soft-failure in set-parameters")
		case pr.depth == 0:
			err = malformed("soft-failure set outside try-each or run-sequence")
		}
		if err != nil {
			pr.record(Record{Command: CommandName(cmd.Code), Offset: cmd.Offset, Component: -1, Err: err})
			return soft, &CommandError{Sequence: pr.seqName, Command: CommandName(cmd.Code), Component: -1,
				Manifest: pr.f.index, Offset: cmd.Offset, Err: err}
		}
		soft = v
	}
	for _, i := range pr.cur {
		if err := pr.spend(); err != nil {
			return soft, err
		}
		ps := pr.f.param(i)
		for k, v := range p {
			// set-parameters only sets what is unset, so that a dependent
			// that set a parameter first overrides its dependency's
			// default (trust-domains §5.4.1).
			if k != ParamSoftFailure && (cmd.Code == DirOverrideParameters || !ps.has(k)) {
				ps.set(k, v)
			}
		}
		pr.record(Record{Command: CommandName(cmd.Code), Offset: cmd.Offset, Component: i, Detail: names})
	}
	return soft, nil
}

// overrideMultiple is set-component-index and override-parameters for
// each component it lists, in its order; the last one listed stays the
// current component (draft-ietf-suit-update-management §6.7).
func (pr *processor) overrideMultiple(cmd Command, soft bool) (bool, error) {
	n := len(pr.f.ids)
	fail := func(err error) (bool, error) {
		pr.record(Record{Command: CommandName(cmd.Code), Offset: cmd.Offset, Component: -1, Err: err})
		return soft, &CommandError{Sequence: pr.seqName, Command: CommandName(cmd.Code), Component: -1,
			Manifest: pr.f.index, Offset: cmd.Offset, Err: err}
	}
	for _, e := range cmd.Multiple {
		if e.Index >= uint64(n) {
			return fail(malformed("component index %d of %d components", e.Index, n))
		}
		if v, ok := e.Params.Bool(ParamSoftFailure); ok {
			if pr.depth == 0 {
				return fail(malformed("soft-failure set outside try-each or run-sequence"))
			}
			soft = v
		}
	}
	for _, e := range cmd.Multiple {
		if err := pr.spend(); err != nil {
			return soft, err
		}
		for k, v := range e.Params {
			if k != ParamSoftFailure {
				pr.f.param(int(e.Index)).set(k, v)
			}
		}
		pr.record(Record{Command: CommandName(cmd.Code), Offset: cmd.Offset, Component: int(e.Index)})
	}
	pr.cur = []int{int(cmd.Multiple[len(cmd.Multiple)-1].Index)}
	return soft, nil
}

// forEach applies cmd once per current component (draft-37 §6.4); nested
// sequences see that one component as their index list.
func (pr *processor) forEach(cmd Command, apply func(Command, int) error) error {
	outer := pr.cur
	one := pr.single[pr.depth][:]
	for _, i := range outer {
		if err := pr.spend(); err != nil {
			pr.cur = outer
			return err
		}
		one[0] = i
		pr.cur = one
		if err := apply(cmd, i); err != nil {
			pr.cur = outer
			return err
		}
	}
	pr.cur = outer
	return nil
}

func (pr *processor) nested(seq Sequence, soft bool) (bool, error) {
	if pr.depth >= MaxSequenceDepth {
		return soft, ErrTooComplex
	}
	pr.depth++
	defer func() { pr.depth-- }()
	return pr.exec(seq, soft)
}

func isConditionFailure(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) && ce.Condition
}

// tryEach runs alternatives until one completes; soft failure starts true
// in each (draft-37 §8.4.10.2).
func (pr *processor) tryEach(cmd Command, i int) error {
	for n, alt := range cmd.Sequences {
		if alt == nil {
			pr.record(Record{Command: CommandName(DirTryEach), Offset: cmd.Offset, Component: i, Detail: pr.detailf("alternative %d (empty)", n)})
			return nil
		}
		soft, err := pr.nested(alt, true)
		if err == nil {
			pr.record(Record{Command: CommandName(DirTryEach), Offset: cmd.Offset, Component: i, Detail: pr.detailf("alternative %d", n)})
			return nil
		}
		if !(soft && isConditionFailure(err)) {
			return err
		}
	}
	err := &CommandError{Sequence: pr.seqName, Command: CommandName(DirTryEach), Component: i, Condition: true,
		Manifest: pr.f.index, Offset: cmd.Offset, Err: ErrTryEachExhausted}
	pr.record(Record{Command: CommandName(DirTryEach), Offset: cmd.Offset, Component: i, Err: ErrTryEachExhausted})
	return err
}

// runSequence runs its argument with soft failure starting false; a soft
// condition failure halts it without error (draft-37 §8.4.10.8).
func (pr *processor) runSequence(cmd Command, i int) error {
	soft, err := pr.nested(cmd.Sequences[0], false)
	if err != nil && !(soft && isConditionFailure(err)) {
		return err
	}
	detail := pr.detailf("completed")
	if err != nil {
		detail = pr.detailf("halted by soft failure")
	}
	pr.record(Record{Command: CommandName(DirRunSequence), Offset: cmd.Offset, Component: i, Detail: detail})
	return nil
}

// simple runs a condition or a plain directive on component i.
func (pr *processor) simple(cmd Command, i int) error {
	t := pr.target(i)
	if pr.meas.present != 0 {
		pr.meas = ParamSet{}
	}
	err := pr.run(cmd, t)
	rec := Record{Command: CommandName(cmd.Code), Offset: cmd.Offset, Component: i, Policy: cmd.Policy, Err: err}
	if pr.details {
		rec.Detail = pr.describe(cmd, t)
	}
	if (pr.report || err != nil) && rec.wantsProperties() {
		rec.Properties = pr.properties(cmd, t, err)
	}
	pr.record(rec)
	if err != nil {
		// A failed dependency integrity check aborts even where soft
		// failure is on (trust-domains §5.4.4).
		return &CommandError{Sequence: pr.seqName, Command: CommandName(cmd.Code), Component: i,
			Manifest: pr.f.index, Offset: cmd.Offset,
			Condition: isCondition(cmd.Code) && cmd.Code != CondDependencyIntegrity && errors.Is(err, ErrRejected), Err: err}
	}
	return nil
}

// consumedKeys lists the parameters a condition reads that describe the
// device once the condition holds.
var consumedKeys = map[int64][]int64{
	CondVendorIdentifier: {ParamVendorID},
	CondClassIdentifier:  {ParamClassID},
	CondDeviceIdentifier: {ParamDeviceID},
	CondComponentSlot:    {ParamComponentSlot},
}

// properties collects what a report may say about a command's outcome
// (see Record.Properties). Only called when the policy asks for it.
func (pr *processor) properties(cmd Command, t Target, err error) Parameters {
	p := Parameters{}
	if err == nil {
		t.Params.copyTo(p, consumedKeys[cmd.Code]...)
	}
	pr.meas.copyTo(p, pr.meas.all()...)
	if len(p) == 0 {
		return nil
	}
	return p
}

func missing(key int64) error {
	return fmt.Errorf("%w: %s", ErrMissingParameter, ParamName(key))
}

func (pr *processor) run(cmd Command, t Target) error {
	switch cmd.Code {
	case CondVendorIdentifier:
		return pr.identity(IdentityVendor, ParamVendorID, ErrVendorMismatch, t)
	case CondClassIdentifier:
		return pr.identity(IdentityClass, ParamClassID, ErrClassMismatch, t)
	case CondDeviceIdentifier:
		return pr.identity(IdentityDevice, ParamDeviceID, ErrDeviceMismatch, t)
	case CondImageMatch:
		return pr.imageMatch(t)
	case CondComponentSlot:
		want, ok := t.Params.Uint(ParamComponentSlot)
		if !ok {
			return missing(ParamComponentSlot)
		}
		got, err := pr.p.Slot(t)
		if err != nil {
			return err
		}
		pr.meas.setUint(ParamComponentSlot, got)
		if got != want {
			return fmt.Errorf("%w: device slot %d", ErrSlotMismatch, got)
		}
		return nil
	case CondCheckContent:
		want, ok := t.Params.Bytes(ParamContent)
		if !ok {
			return missing(ParamContent)
		}
		got, err := pr.p.ReadContent(t, MaxContentSize)
		if errors.Is(err, ErrNoImage) {
			return fmt.Errorf("%w: %v", ErrContentMismatch, err)
		}
		if err != nil {
			return err
		}
		// Constant time over the content, as §8.4.9.3 requires.
		if len(got) != len(want) || subtle.ConstantTimeCompare(got, want) != 1 {
			return ErrContentMismatch
		}
		return nil
	case CondAbort:
		return ErrAborted
	case CondUseBefore, CondImageNotMatch, CondMinimumBattery, CondUpdateAuthorized, CondVersion, DirWait, DirCopyParams:
		return pr.manage(cmd, t)
	case CondIsDependency:
		if !pr.f.m.IsDependency(t.Index) {
			return ErrNotDependency
		}
		return nil
	case CondDependencyIntegrity:
		_, err := pr.dependencyIntegrity(t)
		return err
	case DirProcessDependency:
		return pr.processDependency(t)
	case DirUnlink:
		u, ok := pr.p.(Unlinker)
		if !ok {
			return needs(cmd, "reference counting")
		}
		if err := pr.touch(t); err != nil {
			return err
		}
		return u.Unlink(pr.ctx, t)
	case DirFetch:
		uri, ok := t.Params.Text(ParamURI)
		if !ok {
			return missing(ParamURI)
		}
		if err := canApplyMetadata(t); err != nil {
			return err
		}
		if err := pr.canDecrypt(t); err != nil {
			return err
		}
		if err := pr.touch(t); err != nil {
			return err
		}
		if payload, ok := pr.f.v.Envelope.Integrated[uri]; ok {
			return pr.p.Write(pr.ctx, t, payload)
		}
		return pr.p.Fetch(pr.ctx, t, uri)
	case DirWrite:
		content, ok := t.Params.Bytes(ParamContent)
		if !ok {
			return missing(ParamContent)
		}
		if err := canApplyMetadata(t); err != nil {
			return err
		}
		if err := pr.canDecrypt(t); err != nil {
			return err
		}
		if err := pr.touch(t); err != nil {
			return err
		}
		return pr.p.Write(pr.ctx, t, content)
	case DirCopy, DirSwap:
		src, err := pr.source(t)
		if err != nil {
			return err
		}
		if err := pr.touch(t); err != nil {
			return err
		}
		if cmd.Code == DirCopy {
			if err := canApplyMetadata(t); err != nil {
				return err
			}
			if err := pr.canDecrypt(t); err != nil {
				return err
			}
			return pr.p.Copy(pr.ctx, t, src)
		}
		if err := pr.touch(src); err != nil {
			return err
		}
		return pr.p.Swap(pr.ctx, t, src)
	case DirInvoke:
		if err := pr.authorize(t); err != nil {
			return err
		}
		args, _ := t.Params.Bytes(ParamInvokeArgs)
		if err := pr.p.Invoke(pr.ctx, t, args); err != nil {
			return err
		}
		pr.res.Invoked = append(pr.res.Invoked, t.Index)
		return nil
	}
	return unsupportedAs(ErrUnsupportedCommand, "command %s", CommandName(cmd.Code))
}

// canDecrypt refuses a command that must decrypt on a platform that
// cannot: storing the ciphertext as if it were the image is never right.
func (pr *processor) canDecrypt(t Target) error {
	if !t.Params.has(ParamEncryptionInfo) {
		return nil
	}
	if _, ok := pr.p.(DecryptingPlatform); !ok {
		return unsupported("encryption info on a platform that does not decrypt")
	}
	return nil
}

// canApplyMetadata refuses to store an image whose author asked for file
// metadata (ComponentMetadata): no platform here has a file system to
// apply it to, and an image stored without its permissions is not the
// one the author meant.
func canApplyMetadata(t Target) error {
	if md, ok := t.Params.ComponentMetadata(); ok {
		return unsupportedParam(ParamComponentMetadata, "component-metadata %s for %s: this processor does not apply file metadata", md, t.ID)
	}
	return nil
}

// describe says what a command consumed, for a readable trace.
func (pr *processor) describe(cmd Command, t Target) string {
	p := t.Params
	switch cmd.Code {
	case CondVendorIdentifier, CondClassIdentifier, CondDeviceIdentifier:
		key := map[int64]int64{CondVendorIdentifier: ParamVendorID, CondClassIdentifier: ParamClassID,
			CondDeviceIdentifier: ParamDeviceID}[cmd.Code]
		if id, ok := p.Bytes(key); ok {
			return fmt.Sprintf("%s=%x", ParamName(key), id)
		}
	case CondImageMatch:
		d, ok := p.Digest(ParamImageDigest)
		if !ok {
			return ""
		}
		s := fmt.Sprintf("digest=%x", d.Bytes)
		if size, ok := p.Uint(ParamImageSize); ok {
			s += fmt.Sprintf(" size=%d", size)
		}
		return s
	case CondComponentSlot:
		if slot, ok := p.Uint(ParamComponentSlot); ok {
			return fmt.Sprintf("slot=%d", slot)
		}
	case CondCheckContent, DirWrite:
		if c, ok := p.Bytes(ParamContent); ok {
			return fmt.Sprintf("%d bytes", len(c)) + encryptedNote(cmd, p)
		}
	case DirFetch:
		uri, _ := p.Text(ParamURI)
		if payload, ok := pr.f.v.Envelope.Integrated[uri]; ok {
			return fmt.Sprintf("uri=%s (integrated, %d bytes)", uri, len(payload)) + encryptedNote(cmd, p)
		}
		if uri != "" {
			return "uri=" + uri + encryptedNote(cmd, p)
		}
	case DirCopy, DirSwap:
		if src, ok := p.Uint(ParamSourceComponent); ok {
			return fmt.Sprintf("from [%d]", src) + encryptedNote(cmd, p)
		}
	case CondUseBefore:
		if v, ok := p.Uint(ParamUseBefore); ok {
			return fmt.Sprintf("use-before=%d", v)
		}
	case CondMinimumBattery:
		if v, ok := p.Uint(ParamMinimumBattery); ok {
			return fmt.Sprintf("minimum-battery=%d mWh", v)
		}
	case CondUpdateAuthorized:
		if v, ok := p.Int(ParamUpdatePriority); ok {
			return fmt.Sprintf("priority=%d", v)
		}
	case CondVersion:
		if v, ok := p.Version(); ok {
			return fmt.Sprintf("version %s", v)
		}
	case CondImageNotMatch:
		if d, ok := p.Digest(ParamImageDigest); ok {
			return fmt.Sprintf("digest=%x", d.Bytes)
		}
	case DirCopyParams:
		parts := make([]string, len(cmd.CopyFrom))
		for i, e := range cmd.CopyFrom {
			names := make([]string, len(e.Keys))
			for j, k := range e.Keys {
				names[j] = ParamName(k)
			}
			parts[i] = fmt.Sprintf("%s from [%d]", strings.Join(names, ","), e.Index)
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// encryptedNote names the algorithms a decrypting command used.
func encryptedNote(cmd Command, p *ParamSet) string {
	raw, ok := p.Bytes(ParamEncryptionInfo)
	if !ok || cmd.Code == CondCheckContent || cmd.Code == DirSwap {
		return ""
	}
	info, err := ParseEncryptionInfo(raw)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" decrypted (%s, %s)", EncryptionAlgName(info.Alg), EncryptionAlgName(info.Recipients[0].Alg))
}

func (pr *processor) detailf(format string, args ...any) string {
	if !pr.details {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

func (pr *processor) identity(kind IdentityKind, key int64, mismatch error, t Target) error {
	id, ok := t.Params.Bytes(key)
	if !ok {
		return missing(key)
	}
	match, err := pr.p.MatchIdentity(kind, t, id)
	if err != nil {
		return err
	}
	if !match {
		return mismatch
	}
	return nil
}

func (pr *processor) imageMatch(t Target) error {
	want, ok := t.Params.Digest(ParamImageDigest)
	if !ok {
		return missing(ParamImageDigest)
	}
	var sum []byte
	var got uint64
	var err error
	if pr.f.m.IsDependency(t.Index) {
		sum, got, err = pr.dependencyDigest(t, want.Alg)
	} else {
		sum, got, err = pr.p.ImageDigest(t, want.Alg)
	}
	if errors.Is(err, ErrNoImage) {
		return fmt.Errorf("%w: %v", ErrImageMismatch, err)
	}
	if err != nil {
		return err
	}
	pr.meas.setDigest(Digest{Alg: want.Alg, Bytes: sum})
	pr.meas.setUint(ParamImageSize, got)
	if !want.Equal(sum) {
		return fmt.Errorf("%w: got %x", ErrImageMismatch, sum)
	}
	if size, sized := t.Params.Uint(ParamImageSize); sized && got != size {
		return fmt.Errorf("%w: size %d", ErrImageMismatch, got)
	}
	return nil
}

func (pr *processor) source(t Target) (Target, error) {
	src, ok := t.Params.Uint(ParamSourceComponent)
	if !ok {
		return Target{}, missing(ParamSourceComponent)
	}
	if src >= uint64(len(pr.f.ids)) || int(src) == t.Index {
		return Target{}, malformed("source component %d", src)
	}
	return pr.target(int(src)), nil
}
