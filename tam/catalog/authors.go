package catalog

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/tam/store"
)

// NewAuthor is an author to register.
type NewAuthor struct {
	Name string
	Kind store.AuthorKind
	// KeyPEM is its public key, a PEM PUBLIC KEY block.
	KeyPEM   []byte
	Prefixes []suit.ComponentID
}

// AddAuthor registers an author: its key, and the component-ID prefixes
// it may publish (a TA author's under ["TA"], a firmware author's
// outside it).
func (c *Catalog) AddAuthor(ctx context.Context, n NewAuthor) (store.Author, error) {
	if err := checkName(n.Name); err != nil {
		return store.Author{}, err
	}
	if n.Name == TAMAuthor {
		return store.Author{}, fmt.Errorf("%w: the author name %q is the TAM's own", ErrInvalid, TAMAuthor)
	}
	if len(n.KeyPEM) > MaxKeyPEM {
		return store.Author{}, fmt.Errorf("%w: key of %d bytes", ErrTooLarge, len(n.KeyPEM))
	}
	key, err := suit.ParsePublicKeyPEM(n.KeyPEM)
	if err != nil {
		return store.Author{}, fmt.Errorf("%w: key: %v", ErrInvalid, err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public)
	if err != nil {
		return store.Author{}, fmt.Errorf("%w: key: %v", ErrInvalid, err)
	}
	if len(n.Prefixes) == 0 || len(n.Prefixes) > MaxPrefixes {
		return store.Author{}, fmt.Errorf("%w: %d prefixes, want 1 to %d", ErrInvalid, len(n.Prefixes), MaxPrefixes)
	}
	for _, p := range n.Prefixes {
		if len(p) == 0 {
			return store.Author{}, fmt.Errorf("%w: an empty prefix", ErrInvalid)
		}
		underTA := string(p[0]) == ta.Namespace
		switch n.Kind {
		case store.TAAuthor:
			if !underTA {
				return store.Author{}, fmt.Errorf("%w: a TA author's prefix %s is not under ['%s']", ErrInvalid, p, ta.Namespace)
			}
		case store.FirmwareAuthor, store.Operator:
			if underTA {
				return store.Author{}, fmt.Errorf("%w: a %s author's prefix %s is under ['%s']", ErrInvalid, n.Kind, p, ta.Namespace)
			}
		default:
			return store.Author{}, fmt.Errorf("%w: author kind %q, want ta, firmware or operator", ErrInvalid, n.Kind)
		}
	}
	a := store.Author{Name: n.Name, Kind: n.Kind, Key: der, Prefixes: n.Prefixes, Created: c.now()}
	if err := c.st.AddAuthor(ctx, a); err != nil {
		return store.Author{}, storeErr(err)
	}
	return a, nil
}

// Authors lists the registered authors.
func (c *Catalog) Authors(ctx context.Context) ([]store.Author, error) {
	return c.st.ListAuthors(ctx)
}

// authorKey is a registered author's key.
func authorKey(a store.Author) (*suit.Key, error) {
	pub, err := x509.ParsePKIXPublicKey(a.Key)
	if err != nil {
		return nil, fmt.Errorf("catalog: author %q: stored key: %w", a.Name, err)
	}
	return suit.NewPublicKey(pub)
}

func checkName(name string) error {
	if name == "" || len(name) > MaxName {
		return fmt.Errorf("%w: a name of %d bytes, want 1 to %d", ErrInvalid, len(name), MaxName)
	}
	for _, r := range name {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%w: name %q: only printable ASCII without spaces", ErrInvalid, name)
		}
	}
	return nil
}

// storeErr maps the store's refusals onto the catalog's.
func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}
