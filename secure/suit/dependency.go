package suit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// frame is one manifest of a run: the root, or a dependency being
// processed. Parameters are shared by component ID between a dependent and
// its dependencies (trust-domains §5.3: what a dependent sets, a
// dependency sees, and what a dependency sets persists in the dependent),
// which is how the firmware-encryption example hands its encryption info
// to the author's manifest.
type frame struct {
	v      *Verified
	m      *Manifest
	ids    []ComponentID
	sets   []ParamSet  // the root's parameters, by index
	ptrs   []*ParamSet // a dependency's, shared by ID with the manifests above
	parent *frame
	index  int      // in Result.manifests
	path   []uint64 // dependency indices from the root
	label  string   // " of dependency [1]", "" for the root
	depth  int
	// deps holds the dependencies of this manifest whose integrity was
	// checked, by component index, until a command changes the component.
	deps map[int]*Verified
	// reach lists the signer sets of the dependencies verified from this
	// manifest, down the tree: what it may touch beyond its own signers.
	reach [][]string
}

func (f *frame) param(i int) *ParamSet {
	if f.ptrs != nil {
		return f.ptrs[i]
	}
	return &f.sets[i]
}

// Unlinker is a Platform that counts references to components, for
// directive-unlink (trust-domains §5.4.5): Unlink drops the reference of
// the manifest being processed to component t.
type Unlinker interface {
	Unlink(ctx context.Context, t Target) error
}

// authorize checks that the signers of the running manifest, or of the
// dependencies it verified, may touch component t.
func (pr *processor) authorize(t Target) error {
	if pr.auth == nil {
		return nil
	}
	f := pr.f
	if pr.auth.MayTouch(f.v.Signers, t.ID) {
		return nil
	}
	for _, s := range f.reach {
		if pr.auth.MayTouch(s, t.ID) {
			return nil
		}
	}
	return fmt.Errorf("%w: no signer of this manifest or of its dependencies may touch %s", ErrUnauthorized, t.ID)
}

// touch authorizes a change to component t and forgets any integrity
// check of a dependency held there, since it no longer holds what was
// checked (trust-domains §5.4.4).
func (pr *processor) touch(t Target) error {
	if err := pr.authorize(t); err != nil {
		return err
	}
	if pr.f.deps != nil {
		delete(pr.f.deps, t.Index)
	}
	return nil
}

// dependencyEnvelope reads the envelope that dependency component t holds.
func (pr *processor) dependencyEnvelope(t Target) ([]byte, *Envelope, error) {
	data, err := pr.p.ReadContent(t, MaxEnvelopeSize)
	if err != nil {
		return nil, nil, err
	}
	env, err := ParseEnvelope(data)
	if err != nil {
		return nil, nil, fmt.Errorf("dependency %s: %w", t.ID, err)
	}
	return data, env, nil
}

// dependencyDigest is image-match's digest of a dependency: over the
// bstr-wrapped manifest in the envelope, the digest its authentication
// wrapper holds, so that re-signing or severing does not change it
// (trust-domains §5.2.2); the size is the envelope's.
func (pr *processor) dependencyDigest(t Target, alg int64) ([]byte, uint64, error) {
	data, env, err := pr.dependencyEnvelope(t)
	if err != nil {
		return nil, 0, err
	}
	d, err := DigestOf(alg, bstrEncoding(env.Manifest))
	if err != nil {
		return nil, 0, err
	}
	return d.Bytes, uint64(len(data)), nil
}

// dependencyIntegrity is condition-dependency-integrity: the dependency
// component holds an envelope whose manifest digest is the image-digest
// parameter, whose digest matches its manifest, and that a key of the
// trust policy signed; its sequence number must not roll back. A verified
// dependency extends what the manifest above it may touch.
func (pr *processor) dependencyIntegrity(t Target) (*Verified, error) {
	f := pr.f
	if !f.m.IsDependency(t.Index) {
		return nil, ErrNotDependency
	}
	want, ok := t.Params.Digest(ParamImageDigest)
	if !ok {
		return nil, missing(ParamImageDigest)
	}
	if pr.auth == nil {
		return nil, unsupportedAs(ErrUnsupportedCommand, "dependencies need a trust policy (Options.Authorizer) to authenticate them")
	}
	if pr.depChecks >= MaxDependencies {
		return nil, ErrTooComplex
	}
	pr.depChecks++
	_, env, err := pr.dependencyEnvelope(t)
	if errors.Is(err, ErrNoImage) {
		return nil, fmt.Errorf("dependency %s: %w: %v", t.ID, ErrPayloadUnavailable, err)
	}
	if err != nil {
		return nil, err
	}
	have, err := env.ManifestDigest()
	if err != nil {
		return nil, err
	}
	if have.Alg != want.Alg || !want.Equal(have.Bytes) {
		return nil, fmt.Errorf("dependency %s: manifest digest %x, want %x: %w", t.ID, have.Bytes, want.Bytes, ErrDigestMismatch)
	}
	dv, err := env.Authenticate(pr.auth.Keys())
	if err != nil {
		return nil, fmt.Errorf("dependency %s: %w", t.ID, err)
	}
	if err := checkRollback(pr.p, dv.Manifest); err != nil {
		return nil, fmt.Errorf("dependency %s: %w", t.ID, err)
	}
	if f.deps == nil {
		f.deps = map[int]*Verified{}
	}
	f.deps[t.Index] = dv
	for up := f; up != nil; up = up.parent {
		up.reach = append(up.reach, dv.Signers)
	}
	return dv, nil
}

// processDependency is directive-process-dependency: it runs the shared
// sequence and then the section being run of the dependency held in
// component t (trust-domains §5.3, §5.4.2). A dependency without that
// section succeeds at once.
//
// The draft has the dependency checked by condition-dependency-integrity
// first. Its own Appendix B example 2 processes an integrated dependency
// checked only by image-match, so a dependency not yet checked is checked
// here, fully (digest, signature, rollback): the dependency is never run
// unauthenticated either way.
func (pr *processor) processDependency(t Target) error {
	f := pr.f
	if !f.m.IsDependency(t.Index) {
		return ErrNotDependency
	}
	if pr.key == KeyCommon {
		return malformed("process-dependency in the shared sequence")
	}
	if f.depth+1 > MaxDependencyDepth {
		return ErrTooComplex
	}
	dv := f.deps[t.Index]
	if dv == nil {
		var err error
		if dv, err = pr.dependencyIntegrity(t); err != nil {
			return err
		}
	}
	m := dv.Manifest
	child := &frame{v: dv, m: m, ids: m.IDs(), parent: f, depth: f.depth + 1, index: len(pr.res.manifests),
		path: append(append([]uint64{}, f.path...), uint64(t.Index))}
	child.label = " of dependency " + pathString(child.path)
	child.ptrs = make([]*ParamSet, len(child.ids))
	for i, id := range child.ids {
		child.ptrs[i] = pr.sharedParams(f, id)
	}
	pr.res.manifests = append(pr.res.manifests, manifestInfo{path: child.path, components: child.ids})

	// The dependency runs with its own component index and nesting; the
	// dependent's are restored after it, the per-depth index lists too.
	savedName, savedKey, savedDepth, savedCur, savedSingle := pr.seqName, pr.key, pr.depth, pr.cur, pr.single
	pr.f = child
	err := pr.section(savedKey, child.label)
	pr.f = f
	pr.seqName, pr.key, pr.depth, pr.cur, pr.single = savedName, savedKey, savedDepth, savedCur, savedSingle
	if err != nil {
		return fmt.Errorf("dependency %s: %w", t.ID, err)
	}
	return nil
}

// sharedParams finds the parameters of component id in manifest f or
// those above it, or makes new ones.
func (pr *processor) sharedParams(f *frame, id ComponentID) *ParamSet {
	for up := f; up != nil; up = up.parent {
		for i, other := range up.ids {
			if other.Equal(id) {
				return up.param(i)
			}
		}
	}
	return new(ParamSet)
}

func pathString(path []uint64) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = strconv.FormatUint(p, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
