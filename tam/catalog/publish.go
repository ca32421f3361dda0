package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/reference"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// Publication is an envelope an author publishes, with the detached
// payloads it names.
type Publication struct {
	// Author is who publishes; empty means the principal's own author.
	Author   string
	Envelope []byte
	Payloads [][]byte
	// Hold keeps the envelope for a release: devices get it only through
	// a rollout (tam/rollout), never by direct delivery.
	Hold bool
}

// Publish accepts an envelope only when the principal in ctx is its
// author (with the role that author's kind publishes with), it verifies
// with that author's registered key, every component it touches is inside
// the author's prefixes, a secure image also carries a registered
// operator's valid co-signature (the rule a device's policy applies), and
// every payload is one of the manifest's image digests, and the envelope
// fits in one TEEP Update (ErrTooLargeForTEEP). Then it stores the
// payloads and the envelope, with the reference values of what the
// envelope installs, and tells the long polls. A refusal stores nothing.
func (c *Catalog) Publish(ctx context.Context, pub Publication) (store.Envelope, error) {
	a, err := c.publisher(ctx, pub.Author)
	if err != nil {
		return store.Envelope{}, err
	}
	if len(pub.Envelope) == 0 || len(pub.Envelope) > MaxEnvelope {
		return store.Envelope{}, fmt.Errorf("%w: an envelope of %d bytes, want 1 to %d", ErrTooLarge, len(pub.Envelope), MaxEnvelope)
	}
	if len(pub.Payloads) > MaxPayloads {
		return store.Envelope{}, fmt.Errorf("%w: %d payloads, at most %d", ErrTooLarge, len(pub.Payloads), MaxPayloads)
	}
	authorKey, err := authorKey(a)
	if err != nil {
		return store.Envelope{}, err
	}
	operators, err := c.operators(ctx)
	if err != nil {
		return store.Envelope{}, err
	}
	v, err := verifyAuthor(pub.Envelope, a, authorKey, operators)
	if err != nil {
		return store.Envelope{}, err
	}
	if err := deliverable(pub.Envelope); err != nil {
		return store.Envelope{}, err
	}
	kind := store.FirmwareEnvelope
	if ta.IsManifest(v.Manifest) {
		kind = store.TAEnvelope
	}
	if (a.Kind == store.TAAuthor) != (kind == store.TAEnvelope) {
		return store.Envelope{}, fmt.Errorf("%w: a %s author publishes a %s envelope", ErrOutsidePrefixes, a.Kind, kind)
	}
	cosigner, err := coSignature(v, a, authorKey, operators)
	if err != nil {
		return store.Envelope{}, err
	}
	digests, err := payloadDigests(v.Manifest, pub.Payloads)
	if err != nil {
		return store.Envelope{}, err
	}
	signers := []*suit.Key{authorKey}
	if cosigner != nil {
		signers = append(signers, cosigner)
	}
	ref, err := referenceValues(pub.Envelope, signers)
	if err != nil {
		return store.Envelope{}, err
	}
	sum := sha256.Sum256(pub.Envelope)
	switch _, err := c.st.Envelope(ctx, sum[:]); {
	case err == nil:
		return store.Envelope{}, fmt.Errorf("%w: envelope %x is published", ErrExists, sum)
	case !errors.Is(err, store.ErrNotFound):
		return store.Envelope{}, err
	}
	for i, p := range pub.Payloads {
		if err := c.st.PutPayload(ctx, digests[i], p); err != nil {
			return store.Envelope{}, storeErr(err)
		}
	}
	e := store.Envelope{Digest: sum[:], Kind: kind, Components: v.Manifest.Components,
		SequenceNumber: v.Manifest.SequenceNumber, Author: a.Name, Raw: bytes.Clone(pub.Envelope),
		Payloads: digests, Reference: ref, Published: c.now(), Held: pub.Hold}
	if err := c.st.PutEnvelope(ctx, e); err != nil {
		return store.Envelope{}, storeErr(err)
	}
	if !pub.Hold {
		c.notify("") // a held envelope is news only when a rollout starts
	}
	return e, nil
}

// deliverable refuses an envelope that no TEEP Update could carry: the
// TAM delivers an envelope only in an Update, within the message bound a
// small Agent sizes its buffers from (teep.MaxMessageSize, with the token
// and the signature around it), so a larger one would be stored and never
// sent. A larger TC is published with its payload detached (fetched by
// digest), as the TEEP draft intends.
func deliverable(envelope []byte) error {
	if err := teep.FitsOneUpdate(envelope); err != nil {
		return fmt.Errorf("%w: an envelope of %d bytes: %w", ErrTooLargeForTEEP, len(envelope), err)
	}
	return nil
}

// publisher is the author the principal in ctx publishes as: its own, and
// only with the role of that author's kind.
func (c *Catalog) publisher(ctx context.Context, name string) (store.Author, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok || p.Author == "" {
		return store.Author{}, fmt.Errorf("%w: the principal publishes as no author", ErrNotAuthor)
	}
	if name == "" {
		name = p.Author
	}
	if name != p.Author {
		return store.Author{}, fmt.Errorf("%w: %q may not publish as %q", ErrNotAuthor, p.Name, name)
	}
	a, err := c.st.Author(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Author{}, fmt.Errorf("%w: %q", ErrUnknownAuthor, name)
	}
	if err != nil {
		return store.Author{}, err
	}
	role := map[store.AuthorKind]store.Role{store.TAAuthor: store.RoleTAAuthor, store.FirmwareAuthor: store.RoleFirmwareAuthor}[a.Kind]
	if role == "" || !slices.Contains(p.Roles, role) {
		return store.Author{}, fmt.Errorf("%w: %q, a %s author, needs the %s role to publish", ErrNotAuthor, p.Name, a.Kind, role)
	}
	return a, nil
}

// operator is a registered operator whose co-signature a secure image
// needs.
type operator struct {
	author store.Author
	key    *suit.Key
}

func (c *Catalog) operators(ctx context.Context) ([]operator, error) {
	all, err := c.st.ListAuthors(ctx)
	if err != nil {
		return nil, err
	}
	var out []operator
	for _, a := range all {
		if a.Kind != store.Operator {
			continue
		}
		k, err := authorKey(a)
		if err != nil {
			return nil, err
		}
		out = append(out, operator{a, k})
	}
	return out, nil
}

// verifyAuthor authenticates the envelope (with the author's key and the
// operators', whose co-signatures it may carry) and authorizes it with a
// policy of the author alone: the author must have signed it, and its
// prefixes must cover every component, whoever else signed.
func verifyAuthor(envelope []byte, a store.Author, key *suit.Key, operators []operator) (*suit.Verified, error) {
	env, err := suit.ParseEnvelope(envelope)
	if err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrInvalid, err)
	}
	all := []*suit.Key{key}
	for _, o := range operators {
		all = append(all, o.key)
	}
	v, err := env.Authenticate(all)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if !v.SignedBy(key.ID) {
		return nil, fmt.Errorf("%w: %q did not sign it", ErrSignature, a.Name)
	}
	policy := keys.Policy{Anchors: []keys.Anchor{{Name: a.Name, Key: key, Prefixes: a.Prefixes}}}
	if err := policy.Authorize(v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOutsidePrefixes, err)
	}
	return v, nil
}

// coSignature checks the device's co-signing rule for a secure image: the
// author and a registered operator, each inside its prefixes, both signed.
// It returns the operator's key, nil for an envelope without a secure
// image.
func coSignature(v *suit.Verified, a store.Author, key *suit.Key, operators []operator) (*suit.Key, error) {
	var secure suit.ComponentID
	for _, id := range v.Manifest.Components {
		if reference.SecureImage(id) {
			secure = id
		}
	}
	if secure == nil {
		return nil, nil
	}
	for _, o := range operators {
		policy := keys.Policy{
			Anchors: []keys.Anchor{{Name: a.Name, Key: key, Prefixes: a.Prefixes}, {Name: o.author.Name, Key: o.key, Prefixes: o.author.Prefixes}},
			CoSign:  []keys.CoSign{{Prefix: secure, Required: []string{a.Name, o.author.Name}}},
		}
		if policy.Authorize(v) == nil {
			return o.key, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoCoSignature, secure)
}

// payloadDigests checks each payload against the manifest's image digests
// and returns their SHA-256s.
func payloadDigests(m *suit.Manifest, payloads [][]byte) ([][]byte, error) {
	want := imageDigests(m)
	out := make([][]byte, len(payloads))
	for i, p := range payloads {
		if len(p) > maxPayload {
			return nil, fmt.Errorf("%w: payload %d of %d bytes, at most %d", ErrTooLarge, i+1, len(p), maxPayload)
		}
		sum := sha256.Sum256(p)
		if !slices.ContainsFunc(want, func(d []byte) bool { return bytes.Equal(d, sum[:]) }) {
			return nil, fmt.Errorf("%w: payload %d has SHA-256 %x", ErrPayloadDigest, i+1, sum)
		}
		out[i] = sum[:]
	}
	return out, nil
}

// referenceValues are the reference values of what the envelope installs
// (attest/comid JSON), nil when it installs nothing a device claims.
func referenceValues(envelope []byte, signers []*suit.Key) ([]byte, error) {
	var rv comid.ReferenceValues
	err := reference.Publish(&rv, signers, envelope)
	if errors.Is(err, reference.ErrNoReference) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reference values: %w", ErrInvalid, err)
	}
	return rv.Encode()
}
