package catalog

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/tam/store"
)

// PersonalizationID is the component that holds a TA's personalization
// data (secure/ta): ["TA", author, name, "personalization"].
func PersonalizationID(tc suit.ComponentID) suit.ComponentID {
	return append(slices.Clone(tc), []byte(ta.PersonalizationSuffix))
}

// Personalize builds, signs with the TAM's key and stores a manifest that
// installs data as the personalization of TA tc on one device: the data
// encrypted to that device's key-agreement key (ECDH-ES+A128KW, A128GCM),
// the ciphertext a detached payload, the envelope scoped to the device.
// The plaintext is not stored. Its sequence number is the TA's highest
// published one, which the TA store checks it against (an equal number
// is allowed, and the TA's number does not move past what was published).
func (c *Catalog) Personalize(ctx context.Context, deviceID string, tc suit.ComponentID, data []byte) (store.Envelope, error) {
	if len(data) == 0 || len(data) > MaxPersonalization {
		return store.Envelope{}, fmt.Errorf("%w: personalization data of %d bytes, want 1 to %d", ErrTooLarge, len(data), MaxPersonalization)
	}
	if !ta.IsTA(tc) {
		return store.Envelope{}, fmt.Errorf("%w: %s is not a TA ['%s', author, name]", ErrInvalid, tc, ta.Namespace)
	}
	d, err := c.device(ctx, deviceID)
	if err != nil {
		return store.Envelope{}, err
	}
	if d.AgreementKey == nil {
		return store.Envelope{}, fmt.Errorf("%w: %s", ErrNoAgreementKey, d.ID)
	}
	recipient, err := parseAgreementKey(d.AgreementKey)
	if err != nil {
		return store.Envelope{}, err
	}
	e, err := comid.DecodeEndorsement(d.Endorsement)
	if err != nil {
		return store.Envelope{}, fmt.Errorf("catalog: device %s: stored endorsement: %w", d.ID, err)
	}
	seq, err := c.publishedSequence(ctx, tc)
	if err != nil {
		return store.Envelope{}, err
	}
	raw, ciphertext, err := c.buildPersonalization(tc, data, seq, e.Class, recipient)
	if err != nil {
		return store.Envelope{}, err
	}
	sum := sha256.Sum256(raw)
	ctSum := sha256.Sum256(ciphertext)
	if err := c.st.PutPayload(ctx, ctSum[:], ciphertext); err != nil {
		return store.Envelope{}, storeErr(err)
	}
	env := store.Envelope{Digest: sum[:], Kind: store.PersonalizationEnvelope,
		Components: []suit.ComponentID{PersonalizationID(tc)}, SequenceNumber: seq, Author: TAMAuthor,
		Device: d.ID, Raw: raw, Payloads: [][]byte{ctSum[:]}, Published: c.now()}
	if err := c.st.PutEnvelope(ctx, env); err != nil {
		return store.Envelope{}, storeErr(err)
	}
	c.notify(d.ID)
	return env, nil
}

// publishedSequence is the highest sequence number of the published
// envelopes that install TA tc, or ErrUnknownTC.
func (c *Catalog) publishedSequence(ctx context.Context, tc suit.ComponentID) (uint64, error) {
	all, err := c.st.ListEnvelopes(ctx)
	if err != nil {
		return 0, err
	}
	var seq uint64
	found := false
	for _, e := range all {
		if e.Kind == store.TAEnvelope && slices.ContainsFunc(e.Components, tc.Equal) {
			seq, found = max(seq, e.SequenceNumber), true
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: no envelope installs %s", ErrUnknownTC, tc)
	}
	return seq, nil
}

// cekAndIV is how many bytes of randomness one A128GCM encryption takes:
// the content key, then the IV.
const cekAndIV = 16 + 12

// buildPersonalization builds and signs the envelope and returns it with
// the ciphertext. The URI of the ciphertext names its digest, which is
// known only once it is encrypted: the envelope is built twice from the
// same content key and IV, which give the same ciphertext (the key wrap
// differs, and only the second envelope is kept), and the two ciphertexts
// are checked to be equal.
func (c *Catalog) buildPersonalization(tc suit.ComponentID, data []byte, seq uint64, class comid.Class, recipient *ecdh.PublicKey) ([]byte, []byte, error) {
	random := make([]byte, cekAndIV)
	defer clear(random)
	if _, err := io.ReadFull(c.rand, random); err != nil {
		return nil, nil, err
	}
	build := func(uri string) (*suit.Envelope, []byte, error) {
		spec := &author.EncryptSpec{RecipientKey: recipient, Rand: bytes.NewReader(random)}
		env, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: seq, VendorID: class.OEMID, ClassID: class.HWModel,
			Components: []author.Component{{ID: PersonalizationID(tc), Payload: data, URI: uri, Encrypt: spec}}})
		if err != nil {
			return nil, nil, fmt.Errorf("catalog: personalization manifest: %w", err)
		}
		return env, detached[uri], nil
	}
	_, ciphertext, err := build(c.PayloadURI(make([]byte, sha256.Size)))
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(ciphertext)
	env, again, err := build(c.PayloadURI(sum[:]))
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(again, ciphertext) {
		return nil, nil, errors.New("catalog: the personalization ciphertext changed between two builds")
	}
	if err := env.Sign(c.key); err != nil {
		return nil, nil, err
	}
	return env.Encode(), ciphertext, nil
}
