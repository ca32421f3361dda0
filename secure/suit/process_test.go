package suit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// memPlatform is a minimal recording Platform for processor tests (the
// dry-run device lives in a package that imports this one).
type memPlatform struct {
	images  map[string][]byte
	slot    uint64
	stored  uint64
	vendor  []byte
	fetched map[string][]byte
	events  []string
}

func newMem() *memPlatform {
	return &memPlatform{images: map[string][]byte{}, fetched: map[string][]byte{}}
}

func (m *memPlatform) log(f string, a ...any) { m.events = append(m.events, fmt.Sprintf(f, a...)) }

func (m *memPlatform) MatchIdentity(k IdentityKind, _ Target, id []byte) (bool, error) {
	if k == IdentityVendor && m.vendor != nil {
		return bytes.Equal(id, m.vendor), nil
	}
	return true, nil
}
func (m *memPlatform) Slot(Target) (uint64, error)                { return m.slot, nil }
func (m *memPlatform) SequenceNumber(ComponentID) (uint64, error) { return m.stored, nil }
func (m *memPlatform) Fetch(_ context.Context, t Target, uri string) error {
	b, ok := m.fetched[uri]
	if !ok {
		return ErrPayloadUnavailable
	}
	m.log("fetch %s %s", t.ID, uri)
	m.images[t.ID.String()] = b
	return nil
}
func (m *memPlatform) Write(_ context.Context, t Target, c []byte) error {
	m.log("write %s %q", t.ID, c)
	m.images[t.ID.String()] = c
	return nil
}
func (m *memPlatform) Copy(_ context.Context, d, s Target) error {
	m.log("copy %s<-%s", d.ID, s.ID)
	m.images[d.ID.String()] = m.images[s.ID.String()]
	return nil
}
func (m *memPlatform) Swap(_ context.Context, d, s Target) error {
	m.log("swap %s<->%s", d.ID, s.ID)
	a, b := m.images[d.ID.String()], m.images[s.ID.String()]
	m.images[d.ID.String()], m.images[s.ID.String()] = b, a
	return nil
}
func (m *memPlatform) ImageDigest(t Target, alg int64) ([]byte, uint64, error) {
	b, ok := m.images[t.ID.String()]
	if !ok {
		return nil, 0, ErrNoImage
	}
	d, err := DigestOf(alg, b)
	return d.Bytes, uint64(len(b)), err
}
func (m *memPlatform) ReadContent(t Target, limit int) ([]byte, error) {
	b, ok := m.images[t.ID.String()]
	if !ok {
		return nil, ErrNoImage
	}
	return b, nil
}
func (m *memPlatform) Invoke(_ context.Context, t Target, _ []byte) error {
	m.log("invoke %s", t.ID)
	return nil
}

// Command constructors for hand-built sequences.
func cond(code int64) Command { return Command{Code: code, Policy: 15} }
func dir(code int64) Command  { return Command{Code: code, Policy: 15} }
func set(p Parameters) Command {
	return Command{Code: DirOverrideParameters, Params: p}
}
func index(i ...uint64) Command {
	return Command{Code: DirSetComponentIndex, Index: &IndexArg{Indices: i, List: len(i) > 1}}
}
func indexAll() Command { return Command{Code: DirSetComponentIndex, Index: &IndexArg{All: true}} }
func tryEach(alts ...Sequence) Command {
	return Command{Code: DirTryEach, Sequences: alts}
}
func runSeq(s Sequence) Command { return Command{Code: DirRunSequence, Sequences: []Sequence{s}} }

func digestOf(s string) Digest {
	sum := sha256.Sum256([]byte(s))
	return Digest{Alg: AlgSHA256, Bytes: sum[:]}
}

// verifiedFor builds, signs and authenticates a manifest around an install
// sequence, so that each case runs through the real decoder too.
func verifiedFor(t *testing.T, seq uint64, n int, shared, install Sequence) *Verified {
	t.Helper()
	comps := make([][][]byte, n)
	for i := range comps {
		comps[i] = [][]byte{{byte(i)}}
	}
	common := map[int64]any{keyComponents: comps}
	if shared != nil {
		common[keySharedSequence] = shared.Encode()
	}
	manifest := mustMarshal(map[int64]any{
		KeyVersion: uint64(1), KeySequenceNumber: seq, KeyCommon: mustMarshal(common),
		KeyInstall: install.Encode(),
	})
	d, _ := DigestOf(AlgSHA256, bstrEncoding(manifest))
	env := &Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&Authentication{DigestBytes: d.Encode()}).Encode(),
		Severable: map[int64][]byte{}, Integrated: map[string][]byte{"#inline": []byte("integrated")}}
	k, _ := GenerateSigningKey(AlgEd25519)
	if err := env.Sign(k); err != nil {
		t.Fatal(err)
	}
	pub, _ := k.Public()
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

func TestProcessorSemantics(t *testing.T) {
	tests := []struct {
		name       string
		components int
		shared     Sequence
		install    Sequence
		setup      func(*memPlatform)
		wantErr    error
		wantEvents string
	}{
		{name: "write then check content",
			install:    Sequence{set(Parameters{ParamContent: []byte("abc")}), dir(DirWrite), cond(CondCheckContent)},
			wantEvents: `write [00] "abc"`},
		{name: "check content mismatch",
			install: Sequence{set(Parameters{ParamContent: []byte("abc")}), dir(DirWrite),
				set(Parameters{ParamContent: []byte("abd")}), cond(CondCheckContent)},
			wantErr: ErrContentMismatch, wantEvents: `write [00] "abc"`},
		{name: "image-match without digest fails",
			install: Sequence{set(Parameters{ParamContent: []byte("abc")}), dir(DirWrite), cond(CondImageMatch)},
			wantErr: ErrMissingParameter, wantEvents: `write [00] "abc"`},
		{name: "image-match size checked",
			install: Sequence{set(Parameters{ParamContent: []byte("abc"), ParamImageDigest: digestOf("abc"), ParamImageSize: uint64(4)}),
				dir(DirWrite), cond(CondImageMatch)},
			wantErr: ErrImageMismatch, wantEvents: `write [00] "abc"`},
		{name: "fetch integrated payload",
			install: Sequence{set(Parameters{ParamURI: "#inline", ParamImageDigest: digestOf("integrated")}),
				dir(DirFetch), cond(CondImageMatch)},
			wantEvents: `write [00] "integrated"`},
		{name: "fetch needs uri", install: Sequence{dir(DirFetch)}, wantErr: ErrMissingParameter},
		{name: "abort", install: Sequence{cond(CondAbort)}, wantErr: ErrAborted},
		{name: "try-each falls through soft failures",
			install: Sequence{tryEach(
				Sequence{cond(CondAbort), set(Parameters{ParamContent: []byte("first")}), dir(DirWrite)},
				Sequence{set(Parameters{ParamContent: []byte("second")}), dir(DirWrite)},
			)},
			wantEvents: `write [00] "second"`},
		{name: "try-each with soft-failure false aborts",
			install: Sequence{tryEach(
				Sequence{set(Parameters{ParamSoftFailure: false}), cond(CondAbort)},
				Sequence{set(Parameters{ParamContent: []byte("second")}), dir(DirWrite)},
			)},
			wantErr: ErrAborted},
		{name: "try-each exhausted", install: Sequence{tryEach(Sequence{cond(CondAbort)}, Sequence{cond(CondAbort)})},
			wantErr: ErrTryEachExhausted},
		{name: "try-each empty alternative succeeds",
			install: Sequence{tryEach(Sequence{cond(CondAbort)}, nil)}},
		{name: "try-each directive failure is never soft",
			install: Sequence{tryEach(Sequence{dir(DirFetch)}, Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)})},
			wantErr: ErrMissingParameter},
		{name: "run-sequence hard by default",
			install: Sequence{runSeq(Sequence{cond(CondAbort)}), set(Parameters{ParamContent: []byte("after")}), dir(DirWrite)},
			wantErr: ErrAborted},
		{name: "run-sequence soft halts and continues",
			install: Sequence{runSeq(Sequence{set(Parameters{ParamSoftFailure: true}), cond(CondAbort),
				set(Parameters{ParamContent: []byte("skipped")}), dir(DirWrite)}),
				set(Parameters{ParamContent: []byte("after")}), dir(DirWrite)},
			wantEvents: `write [00] "after"`},
		{name: "soft-failure outside a nested sequence is refused",
			install: Sequence{set(Parameters{ParamSoftFailure: true})}, wantErr: ErrMalformed},
		{name: "soft failure does not leak out of try-each",
			install: Sequence{tryEach(Sequence{set(Parameters{ParamSoftFailure: true}), set(Parameters{ParamContent: []byte("x")})}, nil),
				cond(CondAbort)},
			wantErr: ErrAborted},
		{name: "index true applies to every component", components: 3,
			install:    Sequence{indexAll(), set(Parameters{ParamContent: []byte("all")}), dir(DirWrite)},
			wantEvents: `write [00] "all"|write [01] "all"|write [02] "all"`},
		{name: "index list in order", components: 3,
			install:    Sequence{index(2, 0), set(Parameters{ParamContent: []byte("l")}), dir(DirWrite)},
			wantEvents: `write [02] "l"|write [00] "l"`},
		{name: "index out of range", components: 2, install: Sequence{index(2)}, wantErr: ErrMalformed},
		{name: "multi-component sequence must set index", components: 2,
			install: Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)}, wantErr: ErrMalformed},
		{name: "run-sequence per component with index true", components: 2,
			install:    Sequence{indexAll(), set(Parameters{ParamContent: []byte("r")}), runSeq(Sequence{dir(DirWrite), cond(CondCheckContent)})},
			wantEvents: `write [00] "r"|write [01] "r"`},
		{name: "copy and swap", components: 2,
			install: Sequence{index(0), set(Parameters{ParamContent: []byte("A")}), dir(DirWrite),
				index(1), set(Parameters{ParamSourceComponent: uint64(0)}), dir(DirCopy),
				set(Parameters{ParamContent: []byte("A")}), cond(CondCheckContent),
				index(0), set(Parameters{ParamContent: []byte("B")}), dir(DirWrite),
				index(1), dir(DirSwap), set(Parameters{ParamContent: []byte("B")}), cond(CondCheckContent)},
			wantEvents: `write [00] "A"|copy [01]<-[00]|write [00] "B"|swap [01]<->[00]`},
		{name: "copy from itself refused", components: 2,
			install: Sequence{index(0), set(Parameters{ParamSourceComponent: uint64(0)}), dir(DirCopy)}, wantErr: ErrMalformed},
		{name: "component slot", setup: func(m *memPlatform) { m.slot = 1 },
			install: Sequence{tryEach(
				Sequence{set(Parameters{ParamComponentSlot: uint64(0)}), cond(CondComponentSlot), set(Parameters{ParamContent: []byte("slot0")})},
				Sequence{set(Parameters{ParamComponentSlot: uint64(1)}), cond(CondComponentSlot), set(Parameters{ParamContent: []byte("slot1")})},
			), dir(DirWrite)},
			wantEvents: `write [00] "slot1"`},
		{name: "vendor mismatch in shared sequence stops before install",
			setup:   func(m *memPlatform) { m.vendor = bytes.Repeat([]byte{1}, 16) },
			shared:  Sequence{set(Parameters{ParamVendorID: bytes.Repeat([]byte{2}, 16)}), cond(CondVendorIdentifier)},
			install: Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)},
			wantErr: ErrVendorMismatch},
		{name: "invoke", install: Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite), dir(DirInvoke)},
			wantEvents: `write [00] "x"|invoke [00]`},
		{name: "custom command unsupported", install: Sequence{{Code: -300, Custom: []byte{0xf6}}}, wantErr: ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.components
			if n == 0 {
				n = 1
			}
			v := verifiedFor(t, 1, n, tc.shared, tc.install)
			m := newMem()
			if tc.setup != nil {
				tc.setup(m)
			}
			res, err := Process(context.Background(), v, m, Options{Sequences: []int64{KeyInstall}})
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Process: %v\n%s", err, res.Trace())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.wantErr, res.Trace())
			}
			if got := strings.Join(m.events, "|"); got != tc.wantEvents {
				t.Errorf("events %q, want %q\n%s", got, tc.wantEvents, res.Trace())
			}
		})
	}
}

func TestReportingPolicy(t *testing.T) {
	v := verifiedFor(t, 1, 1, nil, Sequence{set(Parameters{ParamContent: []byte("x")}),
		{Code: DirWrite, Policy: ReportRecordOnSuccess}, {Code: CondCheckContent, Policy: ReportRecordOnFailure},
		{Code: CondAbort, Policy: ReportRecordOnFailure | ReportSysinfoOnFailure}})
	res, err := Process(context.Background(), v, newMem(), Options{Sequences: []int64{KeyInstall}})
	if !errors.Is(err, ErrAborted) {
		t.Fatal(err)
	}
	var reported []string
	for _, r := range res.Records {
		if r.Reported() {
			reported = append(reported, r.Command)
		}
	}
	if got := strings.Join(reported, ","); got != "directive-write,condition-abort" {
		t.Errorf("reported %s", got)
	}
}

func TestRollbackRefused(t *testing.T) {
	install := Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)}
	for _, tc := range []struct {
		manifest, stored uint64
		wantErr          error
	}{
		{5, 4, nil}, {5, 5, nil}, {4, 5, ErrRollback}, {0, 1, ErrRollback},
	} {
		t.Run(fmt.Sprintf("manifest%d-stored%d", tc.manifest, tc.stored), func(t *testing.T) {
			m := newMem()
			m.stored = tc.stored
			_, err := Process(context.Background(), verifiedFor(t, tc.manifest, 1, nil, install), m, Options{})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Process = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && len(m.events) != 0 {
				t.Errorf("a refused manifest ran commands: %v", m.events)
			}
		})
	}
}

// TestProcessingBudget: nesting with index true multiplies work; the budget
// stops it with a typed error instead of running for ever.
func TestProcessingBudget(t *testing.T) {
	inner := Sequence{set(Parameters{ParamContent: []byte("x")})}
	for range MaxSequenceDepth - 1 {
		inner = Sequence{indexAll(), runSeq(inner), runSeq(inner)}
	}
	v := verifiedFor(t, 1, 16, nil, Sequence{indexAll(), runSeq(inner)})
	_, err := Process(context.Background(), v, newMem(), Options{})
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Process = %v, want ErrTooComplex", err)
	}
}

// TestSetIndexIsCharged reproduces the amplification found in review: a
// run of set-component-index true inside try-each was free. It must now
// end with ErrTooComplex, having made at most MaxCommandsExecuted records.
func TestSetIndexIsCharged(t *testing.T) {
	var b Sequence
	for range 500 {
		b = append(b, indexAll())
	}
	b = append(b, cond(CondAbort))
	alts := make([]Sequence, 0, 32)
	for range 31 {
		alts = append(alts, b)
	}
	alts = append(alts, nil)
	a := Sequence{indexAll(), tryEach(alts...)}
	v := verifiedFor(t, 1, 8, nil, Sequence{indexAll(), tryEach(a, nil)})
	res, err := Process(context.Background(), v, newMem(), Options{})
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Process = %v, want ErrTooComplex", err)
	}
	if len(res.Records) > MaxCommandsExecuted {
		t.Fatalf("%d records exceed the budget of %d", len(res.Records), MaxCommandsExecuted)
	}
}
