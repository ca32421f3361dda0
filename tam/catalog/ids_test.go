package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
)

func TestParseComponentID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want suit.ComponentID
		err  error
	}{
		{"TA/acme", id("TA", "acme"), nil},
		{"secure", id("secure"), nil},
		{"['TA','acme','hello']", id("TA", "acme", "hello"), nil},
		{"[00,'x']", suit.ComponentID{{0}, []byte("x")}, nil},
		{"['a]b']", id("a]b"), nil},
		{"", nil, catalog.ErrInvalid},
		{"TA//acme", nil, catalog.ErrInvalid},
		{"/TA", nil, catalog.ErrInvalid},
		{"[]", nil, catalog.ErrInvalid},
		{"['TA'", nil, catalog.ErrInvalid},
		{"['TA',]", nil, catalog.ErrInvalid},
		{"['TA''acme']", nil, catalog.ErrInvalid},
		{"[zz]", nil, catalog.ErrInvalid},
		{"['unclosed]", nil, catalog.ErrInvalid},
		{strings.Repeat("a", catalog.MaxPrefixText+1), nil, catalog.ErrInvalid},
	}
	for _, tc := range tests {
		got, err := catalog.ParseComponentID(tc.in)
		if !errors.Is(err, tc.err) || (tc.err == nil && !got.Equal(tc.want)) {
			t.Errorf("ParseComponentID(%q) = %s, %v; want %s, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParseComponentID: any text parses or is refused with ErrInvalid,
// and what parses prints back (suit's form) to text that parses to it.
func FuzzParseComponentID(f *testing.F) {
	for _, s := range []string{"TA/acme", "['TA','acme']", "[00,'x']", "['a]b']", "[", "['"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := catalog.ParseComponentID(s)
		if err != nil {
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if len(id) == 0 {
			t.Fatalf("%q parses to no part", s)
		}
		again, err := catalog.ParseComponentID(id.String())
		if err == nil && !again.Equal(id) {
			t.Fatalf("%q -> %s -> %s", s, id, again)
		}
	})
}
