package suit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestTrustDomainVectorsConformance: the three examples of
// draft-ietf-suit-trust-domains Appendix B verify with the draft's key,
// re-encode byte for byte, and decode their dependencies with the two
// quirks the README records: the dependency index lies outside
// suit-components, and the dependency's image digest is its manifest
// digest.
func TestTrustDomainVectorsConformance(t *testing.T) {
	key := readPublicKey(t, "suit-trust-domains/public-key.pem")
	dependency := readHexVector(t, "suit-trust-domains/example0_dependent.hex")
	denv, err := ParseEnvelope(dependency)
	if err != nil {
		t.Fatal(err)
	}
	depDigest, err := denv.ManifestDigest()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file     string
		size     int
		id       string
		depIndex int
	}{
		{"example0_dependent.hex", 190, "['dependent.suit']", -1},
		{"example1_process.hex", 373, "['depending.suit']", 1},
		{"example2_integrated.hex", 519, "['depending.suit']", 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := readHexVector(t, "suit-trust-domains/"+tc.file)
			if len(data) != tc.size {
				t.Errorf("%d bytes, want %d", len(data), tc.size)
			}
			env, err := ParseEnvelope(data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(env.Encode(), data) {
				t.Error("re-encoding differs")
			}
			v, err := env.Authenticate([]*Key{key})
			if err != nil {
				t.Fatal(err)
			}
			m := v.Manifest
			if m.ComponentID.String() != tc.id {
				t.Errorf("manifest-component-id %s, want %s", m.ComponentID, tc.id)
			}
			if tc.depIndex < 0 {
				if len(m.Dependencies) != 0 {
					t.Errorf("dependencies %v", m.Dependencies)
				}
				return
			}
			if len(m.Components) != 1 || len(m.IDs()) != 2 || !m.IsDependency(tc.depIndex) || m.IDs()[1].String() != "['dependent.suit']" {
				t.Errorf("components %v, ids %v, dependencies %v", m.Components, m.IDs(), m.Dependencies)
			}
			for key, mem := range m.Members {
				if key != KeyText && mem.Present() && !bytes.Equal(mem.Commands.Encode(), mem.Bytes) {
					t.Errorf("%s re-encodes differently", SequenceName(key))
				}
			}
			res := m.Members[KeyDependencyResolution].Commands
			d, _ := res[1].Params.Digest(ParamImageDigest)
			if !depDigest.Equal(d.Bytes) {
				t.Errorf("dependency digest %x is not the dependency's manifest digest %x", d.Bytes, depDigest.Bytes)
			}
		})
	}
	if ok, _ := depDigest.Matches(dependency); ok {
		t.Error("the dependency digest is over the whole envelope; it must be over the manifest")
	}
}

// TestDependencyDecoding refuses dependency maps the draft does not allow.
func TestDependencyDecoding(t *testing.T) {
	manifest := func(common map[int64]any) []byte {
		return mustMarshal(map[int64]any{KeyVersion: 1, KeySequenceNumber: 1, KeyCommon: mustMarshal(common)})
	}
	comps := [][][]byte{{{0}}}
	tests := []struct {
		name   string
		common map[int64]any
		want   error
	}{
		{"prefix beyond the components", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{1: map[int64]any{1: [][]byte{[]byte("d")}}}}, nil},
		{"dependency among the components", map[int64]any{keyComponents: [][][]byte{{{0}}, {{1}}}, keyDependencies: map[uint64]any{1: map[int64]any{}}}, nil},
		{"no prefix beyond the components", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{1: map[int64]any{}}}, ErrMalformed},
		{"a gap", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{2: map[int64]any{1: [][]byte{[]byte("d")}}}}, ErrMalformed},
		{"unknown metadata", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{1: map[int64]any{2: 0}}}, ErrUnsupported},
		{"empty map", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{}}, ErrMalformed},
		{"index too large", map[int64]any{keyComponents: comps, keyDependencies: map[uint64]any{1000: map[int64]any{1: [][]byte{{1}}}}}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeManifest(manifest(tc.common))
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("decodeManifest = %v, want %v", err, tc.want)
			}
		})
	}
}

// dependencyTree signs a dependency (component ['dep-image']) and a
// dependent that carries it integrated at index 1 (['dep.suit']), fetches
// it, then runs install, both with key.
func dependencyTree(t *testing.T, key *SigningKey, depShared, depInstall, install Sequence) *Verified {
	t.Helper()
	sign := func(manifest []byte, integrated map[string][]byte) *Envelope {
		d, _ := DigestOf(AlgSHA256, bstrEncoding(manifest))
		env := &Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&Authentication{DigestBytes: d.Encode()}).Encode(),
			Integrated: integrated}
		if err := env.Sign(key); err != nil {
			t.Fatal(err)
		}
		return env
	}
	depCommon := map[int64]any{keyComponents: [][][]byte{{[]byte("dep-image")}}}
	if depShared != nil {
		depCommon[keySharedSequence] = depShared.Encode()
	}
	depManifest := map[int64]any{KeyVersion: 1, KeySequenceNumber: 1, KeyCommon: mustMarshal(depCommon), KeyInstall: depInstall.Encode()}
	dep := sign(mustMarshal(depManifest), nil)
	depDigest, _ := dep.ManifestDigest()
	// The dependent's component 0 is the dependency's component: they
	// share its parameters.
	common := map[int64]any{keyComponents: [][][]byte{{[]byte("dep-image")}},
		keyDependencies: map[uint64]any{1: map[int64]any{keyDependencyPrefix: [][]byte{[]byte("dep.suit")}}}}
	head := Sequence{index(1), set(Parameters{ParamURI: "#dep", ParamImageDigest: depDigest}), dir(DirFetch)}
	root := map[int64]any{KeyVersion: 1, KeySequenceNumber: 1, KeyCommon: mustMarshal(common),
		KeyInstall: append(head, install...).Encode()}
	env := sign(mustMarshal(root), map[string][]byte{"#dep": dep.Encode()})
	pub, _ := key.Public()
	parsed, err := ParseEnvelope(env.Encode())
	if err != nil {
		t.Fatal(err)
	}
	v, err := parsed.Authenticate([]*Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDependencySemantics covers the trust-domain commands on hand-built
// manifests: set-parameters versus override, parameters shared with a
// dependency, is-dependency, and the checks of process-dependency and
// dependency-integrity.
func TestDependencySemantics(t *testing.T) {
	key, _ := GenerateSigningKey(AlgEd25519)
	pub, _ := key.Public()
	anchors := TrustAnchors{{Key: pub, Prefixes: []ComponentID{{}}}}
	tests := []struct {
		name       string
		depInstall Sequence
		install    Sequence
		want       error
		events     string
	}{
		{name: "the dependency's default content",
			depInstall: Sequence{{Code: DirSetParameters, Params: Parameters{ParamContent: []byte("default")}}, dir(DirWrite)},
			install:    Sequence{cond(CondDependencyIntegrity), dir(DirProcessDependency)},
			events:     `write ['dep.suit'] "\x00",write ['dep-image'] "default"`},
		{name: "the dependent overrides the dependency's default",
			depInstall: Sequence{{Code: DirSetParameters, Params: Parameters{ParamContent: []byte("default")}}, dir(DirWrite)},
			install: Sequence{index(0), set(Parameters{ParamContent: []byte("dependent's")}),
				index(1), cond(CondDependencyIntegrity), dir(DirProcessDependency)},
			events: `write ['dep.suit'] "\x00",write ['dep-image'] "dependent's"`},
		{name: "the dependency's override wins, and persists in the dependent",
			depInstall: Sequence{set(Parameters{ParamContent: []byte("dependency's")})},
			install: Sequence{index(0), set(Parameters{ParamContent: []byte("dependent's")}),
				index(1), dir(DirProcessDependency), index(0), dir(DirWrite)},
			events: `write ['dep.suit'] "\x00",write ['dep-image'] "dependency's"`},
		{name: "set-parameters does not replace a parameter already set",
			install: Sequence{index(0), set(Parameters{ParamContent: []byte("first")}),
				{Code: DirSetParameters, Params: Parameters{ParamContent: []byte("second")}}, dir(DirWrite)},
			events: `write ['dep.suit'] "\x00",write ['dep-image'] "first"`},
		{name: "is-dependency selects the dependency in try-each",
			install: Sequence{indexAll(), tryEach(Sequence{cond(CondIsDependency), cond(CondDependencyIntegrity)},
				Sequence{set(Parameters{ParamContent: []byte("image")}), dir(DirWrite)})},
			events: `write ['dep.suit'] "\x00",write ['dep-image'] "image"`},
		{name: "process-dependency of a component that is none",
			install: Sequence{index(0), dir(DirProcessDependency)}, want: ErrNotDependency},
		{name: "dependency-integrity with another digest",
			install: Sequence{set(Parameters{ParamImageDigest: digestOf("other")}), cond(CondDependencyIntegrity)}, want: ErrDigestMismatch},
		{name: "dependency-integrity is never soft",
			install: Sequence{tryEach(Sequence{set(Parameters{ParamImageDigest: digestOf("other")}), cond(CondDependencyIntegrity)}, nil)},
			want:    ErrDigestMismatch},
		{name: "a dependency's failure aborts the dependent",
			depInstall: Sequence{cond(CondAbort)}, install: Sequence{dir(DirProcessDependency)}, want: ErrAborted},
		{name: "without a trust policy", install: Sequence{dir(DirProcessDependency)}, want: ErrUnsupportedCommand},
		{name: "unlink without reference counting", install: Sequence{dir(DirUnlink)}, want: ErrUnsupportedCommand},
		{name: "set-parameters with soft-failure",
			install: Sequence{{Code: DirSetParameters, Params: Parameters{ParamSoftFailure: true}}}, want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dep := tc.depInstall
			if dep == nil {
				dep = Sequence{set(Parameters{ParamContent: []byte("unused")})}
			}
			v := dependencyTree(t, key, nil, dep, tc.install)
			mem := newMem()
			// The fetch of the dependency stores its envelope; the events
			// show it by its first byte only.
			opts := Options{Sequences: []int64{KeyInstall}, Authorizer: anchors, Details: true}
			if tc.name == "without a trust policy" {
				opts.Authorizer = nil
			}
			res, err := Process(context.Background(), v, &firstByte{mem}, opts)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.want, res.Trace())
			}
			if tc.events != "" && strings.Join(mem.events, ",") != tc.events {
				t.Errorf("events %q\nwant   %q", strings.Join(mem.events, ","), tc.events)
			}
		})
	}
}

// firstByte logs writes of envelopes (tag 107) by a NUL instead of their
// bytes, to keep event strings short.
type firstByte struct{ *memPlatform }

func (f *firstByte) Write(ctx context.Context, t Target, c []byte) error {
	if len(c) > 2 && c[0] == 0xd8 && c[1] == 0x6b {
		f.log("write %s %q", t.ID, "\x00")
		f.images[t.ID.String()] = c
		return nil
	}
	return f.memPlatform.Write(ctx, t, c)
}

// TestDependencyChecksBounded: a manifest that re-fetches its dependency
// to force a signature check each time stops at MaxDependencies checks.
func TestDependencyChecksBounded(t *testing.T) {
	key, _ := GenerateSigningKey(AlgEd25519)
	pub, _ := key.Public()
	loop := Sequence{}
	for range MaxDependencies + 1 {
		loop = append(loop, dir(DirFetch), cond(CondDependencyIntegrity))
	}
	v := dependencyTree(t, key, nil, Sequence{set(Parameters{ParamContent: []byte("x")})}, loop)
	_, err := Process(context.Background(), v, newMem(), Options{Sequences: []int64{KeyInstall},
		Authorizer: TrustAnchors{{Key: pub, Prefixes: []ComponentID{{}}}}})
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Process = %v, want ErrTooComplex", err)
	}
}
