package ta

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// Identity is the device identity that a TA manifest's vendor and class
// conditions match; nil matches any.
type Identity struct {
	VendorID, ClassID []byte
}

// taPlatform runs a TA manifest twice. The first run (plan) checks
// everything it can before any byte is fetched, decrypts written content
// already, and records the fetches as requests to the normal world,
// answering image-match on fetched content with the manifest's promise.
// The second run (apply), once every fetched payload is in secure memory,
// runs the same sequences for real: every fetch is checked against its
// digest, every encrypted payload decrypted with the device's key, every
// condition evaluated on the real content. Only then do the components'
// contents become changes to the TA store.
type taPlatform struct {
	identity Identity
	store    Store
	keys     suit.KeySource

	plan     bool
	requests []taFetch // recorded by the plan, consumed by the apply
	next     int       // the apply's next request

	content  map[string]*taContent // by component ID
	unlinked map[string]bool       // TA IDs
}

// taFetch is one payload the normal world must bring.
type taFetch struct {
	id   suit.ComponentID
	uri  string
	size uint64 // on the wire: ciphertext when the fetch decrypts
	data []byte // what arrived
}

type taContent struct {
	data     []byte
	promised *suit.Digest // a fetch not run yet: the digest it must meet
	size     uint64
}

func newTAPlatform(id Identity, store Store, keys suit.KeySource) *taPlatform {
	return &taPlatform{identity: id, store: store, keys: keys, plan: true,
		content: map[string]*taContent{}, unlinked: map[string]bool{}}
}

// startApply readies the platform for the second run.
func (p *taPlatform) startApply() {
	p.plan, p.next = false, 0
	p.content, p.unlinked = map[string]*taContent{}, map[string]bool{}
}

func (p *taPlatform) DecryptsPayloads() {}

// MatchIdentity answers the vendor and class conditions with the
// device's identity; it knows no other identity.
func (p *taPlatform) MatchIdentity(kind suit.IdentityKind, _ suit.Target, id []byte) (bool, error) {
	var want []byte
	switch kind {
	case suit.IdentityVendor:
		want = p.identity.VendorID
	case suit.IdentityClass:
		want = p.identity.ClassID
	default:
		return false, nil
	}
	return want == nil || string(want) == string(id), nil
}

func (p *taPlatform) Slot(suit.Target) (uint64, error) { return 0, nil }

// SequenceNumber is the TA's: its personalization data and staging
// components share it.
func (p *taPlatform) SequenceNumber(id suit.ComponentID) (uint64, error) {
	ta, ok := Of(id)
	if !ok {
		return 0, fmt.Errorf("%w: %s is not a TA component", suit.ErrUnsupported, id)
	}
	rec, _ := p.store.Lookup(ta)
	return rec.SequenceNumber, nil
}

func (p *taPlatform) target(t suit.Target) error {
	if _, ok := Of(t.ID); !ok {
		return fmt.Errorf("%w: %s is not a TA component", suit.ErrUnsupported, t.ID)
	}
	return nil
}

// encryption returns the target's encryption info, if it has any.
func encryption(t suit.Target) (*suit.EncryptionInfo, []byte, error) {
	raw, ok := t.Params.Bytes(suit.ParamEncryptionInfo)
	if !ok {
		return nil, nil, nil
	}
	info, err := suit.ParseEncryptionInfo(raw)
	return info, raw, err
}

func (p *taPlatform) Fetch(_ context.Context, t suit.Target, uri string) error {
	if err := p.target(t); err != nil {
		return err
	}
	d, hasDigest := t.Params.Digest(suit.ParamImageDigest)
	size, sized := t.Params.Uint(suit.ParamImageSize)
	if !hasDigest || !sized {
		return fmt.Errorf("%w: a fetched TA payload must declare its image-digest and image-size", suit.ErrRejected)
	}
	info, raw, err := encryption(t)
	if err != nil {
		return err
	}
	wire := size
	if info != nil {
		wire = info.CiphertextSize(size)
	}
	if wire > MaxPayload {
		return fmt.Errorf("%w: a TA payload of %d bytes; at most %d", suit.ErrRejected, wire, MaxPayload)
	}
	key := t.ID.String()
	if p.plan {
		p.requests = append(p.requests, taFetch{id: t.ID, uri: uri, size: wire})
		p.content[key] = &taContent{promised: &d, size: size}
		return nil
	}
	if p.next >= len(p.requests) || p.requests[p.next].uri != uri || !p.requests[p.next].id.Equal(t.ID) {
		return fmt.Errorf("%w: the manifest fetched differently the second time", suit.ErrRejected)
	}
	data := p.requests[p.next].data
	p.next++
	if info != nil {
		if data, err = decrypt(data, raw, p.keys); err != nil {
			return err
		}
	}
	if err := checkDigest(d, data, size); err != nil {
		return fmt.Errorf("%s from %s: %w", t.ID, uri, err)
	}
	p.content[key] = &taContent{data: data, size: uint64(len(data))}
	return nil
}

func decrypt(ciphertext, encInfo []byte, keys suit.KeySource) ([]byte, error) {
	var out bytes.Buffer
	if _, err := suit.Decrypt(&out, bytes.NewReader(ciphertext), encInfo, keys); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func checkDigest(d suit.Digest, data []byte, size uint64) error {
	h, err := suit.NewHash(d.Alg)
	if err != nil {
		return err
	}
	h.Write(data)
	if uint64(len(data)) != size || subtle.ConstantTimeCompare(h.Sum(nil), d.Bytes) != 1 {
		return suit.ErrImageMismatch
	}
	return nil
}

func (p *taPlatform) Write(_ context.Context, t suit.Target, content []byte) error {
	if err := p.target(t); err != nil {
		return err
	}
	if len(content) > MaxPayload {
		return fmt.Errorf("%w: a TA payload of %d bytes; at most %d", suit.ErrRejected, len(content), MaxPayload)
	}
	info, raw, err := encryption(t)
	if err != nil {
		return err
	}
	data := bytes.Clone(content)
	if info != nil {
		if data, err = decrypt(content, raw, p.keys); err != nil {
			return err
		}
	}
	p.content[t.ID.String()] = &taContent{data: data, size: uint64(len(data))}
	return nil
}

func (p *taPlatform) Copy(_ context.Context, dst, src suit.Target) error {
	if err := p.target(dst); err != nil {
		return err
	}
	from, ok := p.content[src.ID.String()]
	if !ok {
		return fmt.Errorf("%w: copy from %s, which holds nothing", suit.ErrRejected, src.ID)
	}
	if from.promised != nil {
		// The plan cannot decrypt what has not arrived: dst will hold what
		// its own image-digest says, which the apply checks.
		d, ok := dst.Params.Digest(suit.ParamImageDigest)
		size, sized := dst.Params.Uint(suit.ParamImageSize)
		if !ok || !sized {
			return fmt.Errorf("%w: a component copied from a fetch must declare its image-digest and image-size", suit.ErrRejected)
		}
		p.content[dst.ID.String()] = &taContent{promised: &d, size: size}
		return nil
	}
	return p.Write(context.Background(), dst, from.data)
}

func (p *taPlatform) Swap(context.Context, suit.Target, suit.Target) error {
	return fmt.Errorf("%w: swap of TA components", suit.ErrUnsupported)
}

// Invoke is not the installer's business: a TA runs when a client opens a
// session to it.
func (p *taPlatform) Invoke(context.Context, suit.Target, []byte) error { return nil }

func (p *taPlatform) ImageDigest(t suit.Target, alg int64) ([]byte, uint64, error) {
	c, ok := p.content[t.ID.String()]
	if !ok {
		if ta, isTA := Of(t.ID); isTA && IsTA(t.ID) && !p.unlinked[ta.String()] {
			if rec, found := p.store.Lookup(ta); found && !rec.Unlinked {
				c = &taContent{data: rec.Image, size: uint64(len(rec.Image))}
				ok = true
			}
		}
	}
	if !ok {
		return nil, 0, suit.ErrNoImage
	}
	if c.promised != nil {
		if c.promised.Alg != alg {
			return nil, 0, fmt.Errorf("%w: digest algorithm %d, promised %d", suit.ErrUnsupported, alg, c.promised.Alg)
		}
		return c.promised.Bytes, c.size, nil
	}
	h, err := suit.NewHash(alg)
	if err != nil {
		return nil, 0, err
	}
	h.Write(c.data)
	return h.Sum(nil), c.size, nil
}

func (p *taPlatform) ReadContent(t suit.Target, limit int) ([]byte, error) {
	c, ok := p.content[t.ID.String()]
	if !ok || c.promised != nil {
		return nil, suit.ErrNoImage
	}
	return c.data[:min(len(c.data), limit+1)], nil
}

// Unlink removes a TA (trust-domains, directive-unlink): its image and
// personalization data go, its sequence number stays.
func (p *taPlatform) Unlink(_ context.Context, t suit.Target) error {
	if !IsTA(t.ID) {
		return fmt.Errorf("%w: unlink of %s, which is not a TA", suit.ErrUnsupported, t.ID)
	}
	if rec, ok := p.store.Lookup(t.ID); !ok || rec.Unlinked {
		return fmt.Errorf("%w: unlink of %s, which is not installed", suit.ErrRejected, t.ID)
	}
	p.unlinked[t.ID.String()] = true
	return nil
}

// changes turns the apply's result into changes to the store, for a
// manifest with sequence number seq and envelope env.
func (p *taPlatform) changes(components []suit.ComponentID, seq uint64, env []byte) ([]Record, error) {
	records := map[string]*Record{}
	record := func(ta suit.ComponentID) *Record {
		r, ok := records[ta.String()]
		if !ok {
			old, _ := p.store.Lookup(ta)
			r = &old
			r.ID, r.SequenceNumber = ta, seq
			records[ta.String()] = r
		}
		return r
	}
	var order []string
	for _, id := range components {
		ta, ok := Of(id)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a TA component", suit.ErrUnsupported, id)
		}
		c := p.content[id.String()]
		switch {
		case IsTA(id) && p.unlinked[id.String()]:
			*record(ta) = Record{ID: ta, SequenceNumber: seq, Unlinked: true}
		case IsTA(id) && c != nil:
			// The envelope kept is the one that installed the image; one
			// that only personalizes it does not replace it.
			r := record(ta)
			r.Image, r.Envelope, r.Unlinked = c.data, env, false
		case IsPersonalization(id) && c != nil:
			record(ta).Personalization = c.data
		default:
			continue // a staging component, or one the manifest only checks
		}
		if !slices.Contains(order, ta.String()) {
			order = append(order, ta.String())
		}
	}
	var out []Record
	for _, key := range order {
		r := records[key]
		if !r.Unlinked && r.Image == nil {
			return nil, fmt.Errorf("%w: personalization data for %s, which is not installed", suit.ErrRejected, r.ID)
		}
		out = append(out, *r)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the manifest installs, updates or unlinks no TA", suit.ErrRejected)
	}
	return out, nil
}
