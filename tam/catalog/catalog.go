package catalog

import (
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// TAMAuthor is the author of the personalization manifests the TAM signs.
const TAMAuthor = "tam"

// Config is what a Catalog is built from.
type Config struct {
	Store store.Store
	// Key is the TAM's signing key: personalization manifests are signed
	// with it, and devices trust it for personalization components.
	Key *suit.SigningKey
	// PublicURL is the TAM's base URL as devices reach it ("https://tam:8443"):
	// the payload URIs of the manifests the TAM builds are
	// PublicURL/payloads/SHA256HEX. Empty gives the path alone.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies the content keys and IVs of personalization data; nil
	// means crypto/rand.
	Rand io.Reader
	// Notify tells the long polls that device (every device when empty)
	// has something new; nil when nobody waits.
	Notify func(device string)
}

// Catalog is the TAM's catalog: authors, envelopes, payloads, devices.
type Catalog struct {
	st        store.Store
	key       *suit.SigningKey
	publicURL string
	now       func() time.Time
	rand      io.Reader
	notify    func(string)
}

// New builds a Catalog.
func New(cfg Config) (*Catalog, error) {
	if cfg.Store == nil || cfg.Key == nil {
		return nil, errors.New("catalog: a store and the TAM's key are needed")
	}
	c := &Catalog{st: cfg.Store, key: cfg.Key, publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
		now: cfg.Now, rand: cfg.Rand, notify: cfg.Notify}
	if c.now == nil {
		c.now = time.Now
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	if c.notify == nil {
		c.notify = func(string) {}
	}
	return c, nil
}

// PayloadURI is where devices fetch the payload with this SHA-256.
func (c *Catalog) PayloadURI(digest []byte) string {
	return c.publicURL + PayloadPath(digest)
}
