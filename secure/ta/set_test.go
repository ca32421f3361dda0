package ta_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
)

// memStore is a Store in memory that records what it was asked to apply.
type memStore struct {
	records []ta.Record
	applied [][]ta.Record
	refuse  error
}

func (m *memStore) Lookup(id suit.ComponentID) (ta.Record, bool) {
	i := slices.IndexFunc(m.records, func(r ta.Record) bool { return r.ID.Equal(id) })
	if i < 0 {
		return ta.Record{}, false
	}
	return m.records[i], true
}

func (m *memStore) Apply(changes []ta.Record) error {
	m.applied = append(m.applied, changes)
	if m.refuse != nil {
		return m.refuse
	}
	for _, c := range changes {
		if err := c.Validate(); err != nil {
			return err
		}
		if i := slices.IndexFunc(m.records, func(r ta.Record) bool { return r.ID.Equal(c.ID) }); i >= 0 {
			m.records[i] = c
		} else {
			m.records = append(m.records, c)
		}
	}
	return nil
}

func (m *memStore) TAs() []ta.Record { return slices.Clone(m.records) }

var (
	vendor = bytes.Repeat([]byte{1}, 16)
	class  = bytes.Repeat([]byte{2}, 16)
)

func taID(author, name string, more ...string) suit.ComponentID {
	id := ta.Prefix(author)
	id = append(id, []byte(name))
	for _, m := range more {
		id = append(id, []byte(m))
	}
	return id
}

// rig is an installer over a memStore that trusts acme's key for acme's TAs.
type rig struct {
	t     *testing.T
	acme  *suit.SigningKey
	store *memStore
	in    *ta.Installer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	k, err := suit.GenerateSigningKey(suit.AlgEd25519)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	st := &memStore{}
	return &rig{t: t, acme: k, store: st, in: &ta.Installer{Store: st,
		Authorizer: suit.TrustAnchors{{Key: pub, Prefixes: []suit.ComponentID{ta.Prefix("acme")}}},
		Identity:   ta.Identity{VendorID: vendor, ClassID: class}}}
}

// verified builds, signs and verifies a TA manifest.
func (r *rig) verified(seq uint64, comps ...author.Component) *suit.Verified {
	r.t.Helper()
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: vendor, ClassID: class, Components: comps})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := env.Sign(r.acme); err != nil {
		r.t.Fatal(err)
	}
	v, err := env.Authenticate(r.in.Authorizer.Keys())
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

// TestSetLifecycle plans a TA whose image is fetched and whose
// personalization is written, delivers the image, and installs: the store
// gets one change with both; nothing is applied before Install.
func TestSetLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t)
	set := r.in.NewSet()
	u, fetches, res, err := set.Plan(ctx, r.verified(3,
		author.Component{ID: taID("acme", "hello"), Payload: []byte("hello TA"), URI: "https://tam.example/hello"},
		author.Component{ID: taID("acme", "hello", ta.PersonalizationSuffix), Payload: []byte("key=1"), Write: true}))
	if err != nil || res == nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(fetches) != 1 || fetches[0].URI != "https://tam.example/hello" || fetches[0].Size != 8 {
		t.Fatalf("fetches %+v", fetches)
	}
	if _, err := set.Install(); !errors.Is(err, ta.ErrNotReady) {
		t.Fatalf("Install before the payload: %v, want ErrNotReady", err)
	}
	if _, err := u.Deliver(ctx, 0, []byte("hello")); !errors.Is(err, ta.ErrDelivery) {
		t.Fatalf("a short payload: %v, want ErrDelivery", err)
	}
	if _, err := u.Deliver(ctx, 0, []byte("hello TA")); err != nil || !u.Ready() {
		t.Fatalf("Deliver: %v (ready %v)", err, u.Ready())
	}
	if _, err := u.Deliver(ctx, 0, []byte("hello TA")); !errors.Is(err, ta.ErrDelivery) {
		t.Fatalf("a payload delivered twice: %v, want ErrDelivery", err)
	}
	if len(r.store.applied) != 0 {
		t.Fatal("the store changed before Install")
	}
	written, err := set.Install()
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 || string(written[0].Image) != "hello TA" || string(written[0].Personalization) != "key=1" ||
		written[0].SequenceNumber != 3 || len(r.store.applied) != 1 {
		t.Fatalf("written %+v, applied %d times", written, len(r.store.applied))
	}
}

// TestSetRefusals: what a set refuses, each with its error, and a store
// that refuses fails every update of the set.
func TestSetRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t)
	set := r.in.NewSet()
	hello := author.Component{ID: taID("acme", "hello"), Payload: []byte("v1"), Write: true}
	u, _, _, err := set.Plan(ctx, r.verified(2, hello))
	if err != nil || !u.Ready() {
		t.Fatalf("a written TA: %v", err)
	}
	if _, _, _, err := set.Plan(ctx, r.verified(3, hello)); !errors.Is(err, ta.ErrInSet) {
		t.Fatalf("the same TA twice: %v, want ErrInSet", err)
	}
	huge := author.Component{ID: taID("acme", "huge"), Payload: make([]byte, ta.MaxPayload+1), URI: "https://tam.example/huge"}
	if _, _, _, err := set.Plan(ctx, r.verified(2, huge)); !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("a payload past MaxPayload: %v, want a rejection", err)
	}
	r.store.records = append(r.store.records, ta.Record{ID: taID("acme", "old"), SequenceNumber: 9, Image: []byte("x")})
	if _, _, _, err := set.Plan(ctx, r.verified(8, author.Component{ID: taID("acme", "old"), Payload: []byte("y"), Write: true})); !errors.Is(err, suit.ErrRollback) {
		t.Fatalf("below the stored sequence number: %v, want ErrRollback", err)
	}
	r.store.refuse = errors.New("disk full")
	if _, err := set.Install(); err == nil || !u.Failed() {
		t.Fatalf("a refusing store: %v (failed %v)", err, u.Failed())
	}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id         suit.ComponentID
		isTA, pers bool
		of         string
	}{
		{taID("acme", "hello"), true, false, "['TA','acme','hello']"},
		{taID("acme", "hello", ta.PersonalizationSuffix), false, true, "['TA','acme','hello']"},
		{taID("acme", "hello", "encrypted"), false, false, "['TA','acme','hello']"},
		{ta.Prefix("acme"), false, false, ""},
		{suit.ComponentID{[]byte("TA"), []byte(""), []byte("x")}, false, false, ""},
		{suit.ComponentID{[]byte("normal")}, false, false, ""},
	}
	for _, tc := range tests {
		of, ok := ta.Of(tc.id)
		if ta.IsTA(tc.id) != tc.isTA || ta.IsPersonalization(tc.id) != tc.pers || ok != (tc.of != "") || (ok && of.String() != tc.of) {
			t.Errorf("%s: IsTA %v, IsPersonalization %v, Of %s %v", tc.id, ta.IsTA(tc.id), ta.IsPersonalization(tc.id), of, ok)
		}
		err := ta.Record{ID: tc.id}.Validate()
		if (err == nil) != tc.isTA || (!tc.isTA && !errors.Is(err, ta.ErrNotTA)) {
			t.Errorf("%s: Validate = %v", tc.id, err)
		}
	}
	if err := (ta.Record{ID: taID("acme", "x"), Unlinked: true, Image: []byte("x")}).Validate(); err == nil {
		t.Error("an unlinked record with an image validates")
	}
}
