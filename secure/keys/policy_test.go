package keys

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

func TestAuthorize(t *testing.T) {
	authorKey, _ := suit.GenerateSigningKey(suit.AlgES256)
	operator, _ := suit.GenerateSigningKey(suit.AlgEd25519)
	stranger, _ := suit.GenerateSigningKey(suit.AlgES256)
	pa, _ := authorKey.Public()
	po, _ := operator.Public()
	secure, normal := suit.ComponentID{[]byte("secure")}, suit.ComponentID{[]byte("normal")}
	ta := suit.ComponentID{[]byte("ta"), []byte("author-a")}
	p := &Policy{
		Anchors: []Anchor{
			{Name: "author", Key: pa, Prefixes: []suit.ComponentID{secure, normal, {[]byte("ta"), []byte("author-a")}}},
			{Name: "operator", Key: po, Prefixes: []suit.ComponentID{secure}},
		},
		CoSign: []CoSign{{Prefix: secure, Required: []string{"author", "operator"}}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		comp    suit.ComponentID
		signers []*suit.SigningKey
		wantErr error
	}{
		{"author on normal", normal, []*suit.SigningKey{authorKey}, nil},
		{"author on its TA subtree", append(ta, []byte("app")), []*suit.SigningKey{authorKey}, nil},
		{"author outside its subtree", suit.ComponentID{[]byte("ta"), []byte("author-b")}, []*suit.SigningKey{authorKey}, ErrUnauthorized},
		{"operator alone on normal", normal, []*suit.SigningKey{operator}, ErrUnauthorized},
		{"secure with both", secure, []*suit.SigningKey{authorKey, operator}, nil},
		{"secure without operator", secure, []*suit.SigningKey{authorKey}, ErrUnauthorized},
		{"secure without author", secure, []*suit.SigningKey{operator}, ErrUnauthorized},
		{"secure co-signed by a stranger", secure, []*suit.SigningKey{authorKey, stranger}, ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: bytes.Repeat([]byte{1}, 16), ClassID: bytes.Repeat([]byte{2}, 16),
				Components: []author.Component{{ID: tc.comp, Payload: []byte("x"), URI: "u"}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.signers {
				env.Sign(s)
			}
			keys := p.Keys()
			if ps, _ := stranger.Public(); ps != nil {
				keys = append(keys, ps) // a key that verifies but is no anchor
			}
			v, err := env.Authenticate(keys)
			if err != nil {
				t.Fatal(err)
			}
			aerr := p.Authorize(v)
			if !errors.Is(aerr, tc.wantErr) {
				t.Fatalf("Authorize = %v, want %v", aerr, tc.wantErr)
			}
			if tc.wantErr != nil && !errors.Is(aerr, suit.ErrRejected) {
				t.Error("ErrUnauthorized is not a rejection")
			}
			// As a suit.Authorizer the policy decides alike.
			if got := p.MayTouch(v.Signers, tc.comp); got != (tc.wantErr == nil) {
				t.Errorf("MayTouch = %v, Authorize = %v", got, aerr)
			}
			// Verify is the same decision from the envelope's bytes, with
			// the anchors' keys alone.
			vv, verr := p.Verify(env.Encode())
			if tc.wantErr == nil && (verr != nil || !vv.Digest.Equal(v.Digest.Bytes)) {
				t.Errorf("Verify = %v", verr)
			}
			if tc.wantErr != nil && !errors.Is(verr, tc.wantErr) {
				t.Errorf("Verify = %v, want %v", verr, tc.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	k, _ := suit.GenerateSigningKey(suit.AlgES256)
	pk, _ := k.Public()
	for _, p := range []*Policy{
		{Anchors: []Anchor{{Name: "", Key: pk}}},
		{Anchors: []Anchor{{Name: "a", Key: pk}, {Name: "a", Key: pk}}},
		{Anchors: []Anchor{{Name: "a", Key: pk}}, CoSign: []CoSign{{Required: []string{"b"}}}},
	} {
		if p.Validate() == nil {
			t.Errorf("Validate accepted %+v", p)
		}
	}
}

// TestErrUnauthorizedReports: an authorization refusal is the suit
// package's, so a SUIT report says component-unauthorised (result code 33,
// reason 7), not a generic refusal (code 1, operation-failed).
func TestErrUnauthorizedReports(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("component x: %w", ErrUnauthorized)
	if !errors.Is(err, suit.ErrUnauthorized) || !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("%v is not suit.ErrUnauthorized", err)
	}
	if code, reason := suit.ErrorCode(err), suit.ReasonFor(err); code != 33 || reason != suit.ReasonComponentUnauthorised {
		t.Fatalf("report code %d reason %s, want 33 component-unauthorised", code, reason)
	}
}

// TestVerifyRefusals: each way an envelope fails the one Verify step.
func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	k, _ := suit.GenerateSigningKey(suit.AlgES256)
	other, _ := suit.GenerateSigningKey(suit.AlgES256)
	pk, _ := k.Public()
	comp := suit.ComponentID{[]byte("normal")}
	p := &Policy{Anchors: []Anchor{{Name: "a", Key: pk, Prefixes: []suit.ComponentID{comp}}}}
	build := func(id suit.ComponentID, key *suit.SigningKey) []byte {
		env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: bytes.Repeat([]byte{1}, 16), ClassID: bytes.Repeat([]byte{2}, 16),
			Components: []author.Component{{ID: id, Payload: []byte("x"), URI: "u"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Sign(key); err != nil {
			t.Fatal(err)
		}
		return env.Encode()
	}
	good := build(comp, k)
	altered := bytes.Clone(good)
	altered[len(altered)-20] ^= 1
	tests := []struct {
		name string
		env  []byte
		want error
	}{
		{"good", good, nil},
		{"not CBOR", []byte{0xff}, suit.ErrMalformed},
		{"signed by a stranger", build(comp, other), suit.ErrBadSignature},
		{"altered", altered, suit.ErrRejected},
		{"another component", build(suit.ComponentID{[]byte("secure")}, k), ErrUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Verify(tc.env)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTAMAnchor: a TAM's key may sign the personalization data of any TA
// (and its staging component), and nothing else: neither a TA itself, nor
// an image, nor a component merely named like personalization elsewhere.
func TestTAMAnchor(t *testing.T) {
	t.Parallel()
	tam, _ := suit.GenerateSigningKey(suit.AlgESP256)
	pt, _ := tam.Public()
	p := &Policy{Anchors: []Anchor{TAMAnchor("tam", pt)}}
	id := func(parts ...string) suit.ComponentID {
		var c suit.ComponentID
		for _, s := range parts {
			c = append(c, []byte(s))
		}
		return c
	}
	tests := []struct {
		comp suit.ComponentID
		want error
	}{
		{id("TA", "acme", "hello", "personalization"), nil},
		{id("TA", "globex", "wallet", "personalization", "encrypted"), nil},
		{id("TA", "acme", "hello"), ErrUnauthorized},
		{id("TA", "acme", "hello", "encrypted"), ErrUnauthorized},
		{id("TA", "acme", "personalization"), ErrUnauthorized},
		{id("secure"), ErrUnauthorized},
		{id("normal", "x", "y", "personalization"), ErrUnauthorized},
	}
	for _, tc := range tests {
		env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: bytes.Repeat([]byte{1}, 16), ClassID: bytes.Repeat([]byte{2}, 16),
			Components: []author.Component{{ID: tc.comp, Payload: []byte("x"), URI: "u"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Sign(tam); err != nil {
			t.Fatal(err)
		}
		v, err := env.Authenticate(p.Keys())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Authorize(v); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.comp, err, tc.want)
		}
	}
}
