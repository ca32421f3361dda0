package fwu_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

// dependent signs, with the TA author signer's key, a manifest of
// draft-ietf-suit-trust-domains that carries dep integrated (as "#dep")
// in its dependency component ['TA','acme','hello','manifest'], checks its
// integrity and processes it: the dependency's install writes the TA.
func (r *rig) dependent(signer string, seq uint64, dep taRelease) taRelease {
	r.t.Helper()
	depEnv, err := suit.ParseEnvelope(dep.envelope)
	if err != nil {
		r.t.Fatal(err)
	}
	depDigest, err := depEnv.ManifestDigest()
	if err != nil {
		r.t.Fatal(err)
	}
	const (
		keyDependencies     = 1 // suit-common (trust-domains §5.2)
		keyComponents       = 2
		keyDependencyPrefix = 1 // SUIT_Dependency_Metadata
	)
	dependency := taID("acme", "hello", "manifest")
	common := map[int64]any{keyComponents: []suit.ComponentID{taID("acme", "hello")},
		keyDependencies: map[uint64]any{1: map[int64]any{keyDependencyPrefix: dependency}}}
	install := suit.Sequence{
		{Code: suit.DirSetComponentIndex, Index: &suit.IndexArg{Indices: []uint64{1}}},
		{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamURI: "#dep", suit.ParamImageDigest: depDigest}},
		{Code: suit.DirFetch, Policy: 2},
		{Code: suit.CondDependencyIntegrity, Policy: 15},
		{Code: suit.DirProcessDependency, Policy: 15},
	}
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		r.t.Fatal(err)
	}
	commonBytes, err := em.Marshal(common)
	if err != nil {
		r.t.Fatal(err)
	}
	manifest, err := em.Marshal(map[int64]any{suit.KeyVersion: suit.ManifestVersion, suit.KeySequenceNumber: seq,
		suit.KeyCommon: commonBytes, suit.KeyInstall: install.Encode()})
	if err != nil {
		r.t.Fatal(err)
	}
	wrapped, err := em.Marshal(manifest)
	if err != nil {
		r.t.Fatal(err)
	}
	digest, err := suit.DigestOf(suit.AlgSHA256, wrapped)
	if err != nil {
		r.t.Fatal(err)
	}
	env := &suit.Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&suit.Authentication{DigestBytes: digest.Encode()}).Encode(),
		Integrated: map[string][]byte{"#dep": dep.envelope}}
	if err := env.Sign(r.signers.TAAuthors[signer]); err != nil {
		r.t.Fatal(err)
	}
	return taRelease{envelope: env.Encode()}
}

// TestDependencyManifestOnDevice processes a dependency manifest (trust
// domains) through the device's update service, with the device's own
// key policy as the authorizer: the dependency installs the TA its signer
// may touch, and a dependency whose signer may not touch it is refused
// as component-unauthorised.
func TestDependencyManifestOnDevice(t *testing.T) {
	r := newRig(t)
	hello := author.Component{ID: taID("acme", "hello"), Payload: []byte("hello TA"), Write: true}
	if err := r.taUpdate(r.dependent("acme", 1, r.taBuild("acme", 1, hello))); err != nil {
		t.Fatalf("dependency manifest: %v", err)
	}
	if got := r.storedTAs(); !strings.HasPrefix(got, "['TA','acme','hello'] seq 1 image hello TA") {
		t.Fatalf("store holds %s", got)
	}

	// globex's key may touch globex's TAs only: its manifest, carried by
	// acme's dependent, may not write acme's TA.
	foreign := r.taBuild("globex", 2, author.Component{ID: taID("acme", "hello"), Payload: []byte("evil"), Write: true})
	err := r.taUpdate(r.dependent("acme", 2, foreign))
	if !errors.Is(err, keys.ErrUnauthorized) && !errors.Is(err, suit.ErrUnauthorized) {
		t.Fatalf("a dependency outside its signer's components: %v, want ErrUnauthorized", err)
	}
	var refused *fwu.RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("%v carries no outcome", err)
	}
	if rep := refused.Outcome.Report(suit.ReportOptions{}); rep.Result.Code != 33 || rep.Result.Reason != suit.ReasonComponentUnauthorised {
		t.Errorf("report result %+v, want 33 component-unauthorised", rep.Result)
	}
	if err := r.svc.Cancel(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if got := r.storedTAs(); !strings.HasPrefix(got, "['TA','acme','hello'] seq 1 image hello TA") {
		t.Fatalf("after the refusal the store holds %s", got)
	}
}
