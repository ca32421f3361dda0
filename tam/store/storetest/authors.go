package storetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

func testAuthors(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		authors := []store.Author{
			{Name: "acme", Kind: store.TAAuthor, Key: []byte("acme-key"),
				Prefixes: []suit.ComponentID{cid("ta", "acme"), {{}, {0x00, 0xff}}}, Created: at(1)},
			{Name: "boot-vendor", Kind: store.FirmwareAuthor, Key: []byte{0}, Prefixes: []suit.ComponentID{}},
			{Name: "op", Kind: store.Operator, Key: bytes.Repeat([]byte{7}, store.MaxBlob)},
		}
		for _, a := range authors {
			wantErr(t, "add "+a.Name, s.AddAuthor(ctx, a), nil)
		}
		for _, a := range authors {
			got, err := s.Author(ctx, a.Name)
			wantErr(t, "author "+a.Name, err, nil)
			same(t, "author "+a.Name, got, a)
		}
		all, err := s.ListAuthors(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, authors) // already by name
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		first := store.Author{Name: "acme", Kind: store.TAAuthor, Key: []byte("k1")}
		wantErr(t, "add", s.AddAuthor(ctx, first), nil)
		wantErr(t, "add again", s.AddAuthor(ctx, store.Author{Name: "acme", Kind: store.FirmwareAuthor, Key: []byte("k2")}), store.ErrExists)
		got, err := s.Author(ctx, "acme")
		wantErr(t, "author", err, nil)
		same(t, "author after refused add", got, first)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Author(ctx, "nobody")
		wantErr(t, "author", err, store.ErrNotFound)
		all, err := s.ListAuthors(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("list of an empty store: %d authors", len(all))
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		good := func(mod func(*store.Author)) store.Author {
			a := store.Author{Name: "acme", Kind: store.TAAuthor, Key: []byte("k"), Prefixes: []suit.ComponentID{cid("ta")}}
			mod(&a)
			return a
		}
		for _, tc := range []struct {
			name string
			a    store.Author
		}{
			{"empty name", good(func(a *store.Author) { a.Name = "" })},
			{"long name", good(func(a *store.Author) { a.Name = strings.Repeat("n", store.MaxKey+1) })},
			{"name not UTF-8", good(func(a *store.Author) { a.Name = "a\xff" })},
			{"name with NUL", good(func(a *store.Author) { a.Name = "a\x00b" })},
			{"unknown kind", good(func(a *store.Author) { a.Kind = "root" })},
			{"no key", good(func(a *store.Author) { a.Key = nil })},
			{"key over MaxBlob", good(func(a *store.Author) { a.Key = make([]byte, store.MaxBlob+1) })},
			{"empty prefix", good(func(a *store.Author) { a.Prefixes = []suit.ComponentID{{}} })},
			{"prefix of too many parts", good(func(a *store.Author) {
				a.Prefixes = []suit.ComponentID{make(suit.ComponentID, store.MaxComponentParts+1)}
			})},
			{"prefix part too long", good(func(a *store.Author) { a.Prefixes = []suit.ComponentID{{make([]byte, store.MaxKey+1)}} })},
			{"too many prefixes", good(func(a *store.Author) { a.Prefixes = make([]suit.ComponentID, store.MaxItems+1) })},
			{"time out of range", good(func(a *store.Author) { a.Created = at(0).AddDate(300, 0, 0) })},
		} {
			wantErr(t, tc.name, s.AddAuthor(ctx, tc.a), store.ErrInvalid)
		}
		all, err := s.ListAuthors(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("refused authors were stored: %v", all)
		}
	})
}
