package keys

import (
	"bytes"
	"errors"
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
