package attest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/teeup/teeup/attest/eventlog"
)

// Verifier checks evidence. Its fields are what it trusts: the
// registered devices and the nonces it issued.
type Verifier struct {
	Endorsements Endorsements
	Nonces       *NonceStore
}

// Verified is evidence that passed every check of Verify: only what it
// holds may be appraised.
type Verified struct {
	Claims *Claims
	// Device is the registered endorsement the evidence verified against.
	Device *Endorsement
	// EventLog is the log that replays to the quoted PCRs.
	EventLog eventlog.Log
}

// Verify checks evidence and returns its claims only if every check
// passed, in this order: the device is registered (by the EAT's ueid);
// the EAT is signed by its attestation key; the quote is signed by its
// TPM key and carries the digest of the EAT's payload; the event log
// replays to the quoted PCRs; the EAT's images are exactly the log's, with
// the same digests; the nonce was issued, has not expired and is used
// now, once. Every refusal is ErrRejected. Verify is safe for concurrent
// use if the NonceStore is.
func (v *Verifier) Verify(ev *Evidence) (*Verified, error) {
	msg, err := decodeSign1(ev.EAT)
	if err != nil {
		return nil, err
	}
	ueid, err := peekUEID(msg)
	if err != nil {
		return nil, err
	}
	dev, err := v.Endorsements.Lookup(ueid)
	if err != nil {
		return nil, err
	}
	if err := verifySign1(msg, dev.AttestationKey); err != nil {
		return nil, err
	}
	claims, err := decodePayload(msg.Payload)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(claims.UEID, dev.UEID) {
		return nil, fmt.Errorf("%w: ueid %x, registered %x", ErrMalformed, claims.UEID, dev.UEID)
	}
	vq, err := VerifyQuote(ev.Quote, dev.TPMKey)
	if err != nil {
		return nil, err
	}
	payloadHash := sha256.Sum256(msg.Payload)
	if subtle.ConstantTimeCompare(vq.ExtraData, payloadHash[:]) != 1 {
		return nil, fmt.Errorf("%w: the quote's qualifying data is not the digest of this EAT", ErrQuote)
	}
	if err := checkReplay(vq, ev.EventLog); err != nil {
		return nil, err
	}
	if err := checkMeasurements(claims, ev.EventLog); err != nil {
		return nil, err
	}
	if v.Nonces == nil {
		return nil, fmt.Errorf("%w: the verifier issued no nonce", ErrNonce)
	}
	if err := v.Nonces.Consume(claims.Nonce); err != nil {
		return nil, err
	}
	return &Verified{Claims: claims, Device: dev, EventLog: ev.EventLog}, nil
}

// checkMeasurements checks that the EAT's images and the log's components
// are the same set, with the same manifest and image digests.
func checkMeasurements(c *Claims, log eventlog.Log) error {
	measured, err := log.Components()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEventLog, err)
	}
	images := 0
	for _, m := range c.Components {
		if m.Kind != KindImage {
			continue
		}
		images++
		got, ok := measured[m.Name]
		switch {
		case !ok:
			return fmt.Errorf("%w: image %s is not in the event log", ErrMeasurements, m.Name)
		case !bytes.Equal(got.ImageDigest, m.Digest):
			return fmt.Errorf("%w: image %s: digest %x, the log measured %x", ErrMeasurements, m.Name, m.Digest, got.ImageDigest)
		case !bytes.Equal(got.ManifestDigest, m.ManifestDigest):
			return fmt.Errorf("%w: image %s: manifest digest %x, the log measured %x", ErrMeasurements, m.Name, m.ManifestDigest, got.ManifestDigest)
		}
	}
	if images != len(measured) {
		for name := range measured {
			if m, ok := c.Component(name); !ok || m.Kind != KindImage {
				return fmt.Errorf("%w: the log measured %s, the EAT does not list it as an image", ErrMeasurements, name)
			}
		}
	}
	return nil
}

// peekUEID reads the ueid of an EAT whose signature is not yet verified,
// only to find the key to verify it with.
func peekUEID(msg *cose.Sign1Message) ([]byte, error) {
	var claims map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(msg.Payload, &claims); err != nil {
		return nil, fmt.Errorf("%w: EAT claims: %w", ErrMalformed, err)
	}
	raw, ok := claims[256]
	if !ok {
		return nil, fmt.Errorf("%w: EAT claim ueid missing", ErrMalformed)
	}
	var ueid []byte
	if err := decMode.Unmarshal(raw, &ueid); err != nil || len(ueid) < MinUEID || len(ueid) > MaxUEID {
		return nil, fmt.Errorf("%w: EAT claim ueid", ErrMalformed)
	}
	return ueid, nil
}
