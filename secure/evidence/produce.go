package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/tpm"
)

// ErrNonce: the verifier's nonce is not 8 to 64 bytes (RFC 9711 section
// 4.1). No evidence was made.
var ErrNonce = errors.New("evidence: the nonce must hold 8 to 64 bytes")

// Quoter is the TPM as evidence needs it: a quote by its attestation key
// over PCRs, and its boot count.
type Quoter interface {
	Quote(nonce []byte, pcrs ...int) (*tpm.Quote, error)
	ResetCount() (uint32, error)
}

// Identity is what the device says it is: the class its manifests are
// for and the version of its hardware.
type Identity struct {
	OEMID, HWModel []byte // the vendor and class IDs its manifests name
	HWVersion      string
}

// Debug is the device's debug state (dbgstat): the emulated secure world
// has no debug port, so debug is disabled.
const Debug = attest.DebugDisabled

// Source is what the secure world of one power-on knows of itself and
// attests: what the bootloader booted and measured, the TA store, the
// trust policy that verified both, its keys, its TPM and its identity.
type Source struct {
	Boot *boot.Device
	// Store holds the TAs; nil when there are none.
	Store    *storage.Store
	Policy   *keys.Policy
	Keys     *keys.Device
	TPM      Quoter
	Identity Identity
}

// Evidence is the device's evidence for a verifier's nonce (8 to 64
// bytes), in attest's wire form: its claims signed with the attestation
// key, a TPM quote over the measurement PCR whose qualifying data is the
// digest of the signed claims, and the boot's event log.
func (s *Source) Evidence(nonce []byte) ([]byte, error) {
	if len(nonce) < attest.MinNonce || len(nonce) > attest.MaxNonce {
		return nil, fmt.Errorf("%w, not %d", ErrNonce, len(nonce))
	}
	claims, err := s.Claims(nonce)
	if err != nil {
		return nil, err
	}
	quote := func(qualifyingData []byte) (attest.Quote, error) {
		q, err := s.TPM.Quote(qualifyingData, boot.MeasurementPCR)
		if err != nil {
			return attest.Quote{}, err
		}
		return attest.Quote{Attest: q.Attest, Signature: q.Signature}, nil
	}
	ev, err := attest.NewEvidence(claims, s.Keys.Attestation, quote, s.Boot.EventLog())
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return ev.Marshal()
}

// Claims gathers what the device claims for nonce: its identity, its boot
// count, and each booted image and installed TA with its digests,
// sequence number and signer.
func (s *Source) Claims(nonce []byte) (*attest.Claims, error) {
	ueid, err := UEID(&s.Keys.Attestation.PublicKey)
	if err != nil {
		return nil, err
	}
	resets, err := s.TPM.ResetCount()
	if err != nil {
		return nil, fmt.Errorf("evidence: boot count: %w", err)
	}
	c := &attest.Claims{Nonce: nonce, UEID: ueid, OEMID: s.Identity.OEMID, HWModel: s.Identity.HWModel,
		HWVersion: s.Identity.HWVersion, Debug: Debug, BootCount: uint64(resets)}
	running := s.Boot.Running()
	if running == nil {
		return nil, fmt.Errorf("evidence: %w", errNotBooted)
	}
	for _, img := range running {
		signer, err := firstSigner(img.Signers)
		if err != nil {
			return nil, fmt.Errorf("evidence: %s: %w", img.Component, err)
		}
		c.Components = append(c.Components, attest.Component{Name: img.Component.ID().String(), Kind: attest.KindImage,
			Digest: img.ImageDigest, ManifestDigest: img.ManifestDigest, Sequence: img.SequenceNumber, Signer: signer})
	}
	if s.Store == nil {
		return c, nil
	}
	for _, rec := range s.Store.TAs() {
		if rec.Unlinked {
			continue
		}
		// The record's envelope verified when the TA was installed; it is
		// verified again here for the digest and signers of its manifest,
		// under the policy this power-on trusts.
		v, err := s.Policy.Verify(rec.Envelope)
		if err != nil {
			return nil, fmt.Errorf("evidence: TA %s: %w", rec.ID, err)
		}
		signer, err := firstSigner(v.Signers)
		if err != nil {
			return nil, fmt.Errorf("evidence: TA %s: %w", rec.ID, err)
		}
		sum := sha256.Sum256(rec.Image)
		c.Components = append(c.Components, attest.Component{Name: rec.ID.String(), Kind: attest.KindTA,
			Digest: sum[:], ManifestDigest: v.Digest.Bytes, Sequence: rec.SequenceNumber, Signer: signer})
	}
	return c, nil
}

var errNotBooted = errors.New("nothing booted")

// firstSigner is the claim's signer: the first key that signed the
// manifest (its author; the reference values list all of them).
func firstSigner(ids []string) ([]byte, error) {
	if len(ids) == 0 {
		return nil, errors.New("its manifest names no signer")
	}
	return hex.DecodeString(ids[0])
}
