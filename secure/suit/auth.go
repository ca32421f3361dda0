package suit

import (
	"bytes"
	"fmt"
)

// Verified is an envelope whose manifest digest and at least one
// authentication block have been checked. Only Authenticate makes one.
type Verified struct {
	Envelope *Envelope
	Manifest *Manifest
	// Digest is the authenticated manifest digest.
	Digest Digest
	// Signers lists, once each and in block order, the IDs of the keys
	// that verified an authentication block.
	Signers []string
}

// SignedBy reports whether the key with this ID verified a block.
func (v *Verified) SignedBy(id string) bool {
	for _, s := range v.Signers {
		if s == id {
			return true
		}
	}
	return false
}

// Authenticate checks the manifest digest, then every authentication block
// against keys, and only then decodes the manifest (draft-37 §8.2: nothing
// of the manifest is parsed before its signature is verified).
//
// A block that no given key verifies is skipped, since it may be a
// co-signature by a party the caller does not know; at least one block
// must verify. Signers counts distinct keys, so the same signature twice
// does not count twice; a block repeated byte for byte is refused.
func (e *Envelope) Authenticate(keys []*Key) (*Verified, error) {
	auth, err := decodeAuthentication(e.AuthWrapper)
	if err != nil {
		return nil, err
	}
	digest, err := e.checkDigest(auth)
	if err != nil {
		return nil, err
	}
	if len(auth.Blocks) == 0 {
		return nil, ErrUnauthenticated
	}
	v := &Verified{Envelope: e, Digest: digest}
	for i, raw := range auth.Blocks {
		for _, prev := range auth.Blocks[:i] {
			if bytes.Equal(prev, raw) {
				return nil, malformed("authentication block %d repeats an earlier one", i)
			}
		}
		block, err := parseCOSEBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("authentication block %d: %w", i, err)
		}
		for _, k := range keys {
			if !v.SignedBy(k.ID) && block.verify(k, auth.DigestBytes) {
				v.Signers = append(v.Signers, k.ID)
			}
		}
	}
	if len(v.Signers) == 0 {
		return nil, ErrBadSignature
	}
	m, err := decodeManifest(e.Manifest)
	if err != nil {
		return nil, err
	}
	if err := m.attachSevered(e); err != nil {
		return nil, err
	}
	v.Manifest = m
	return v, nil
}

// Sign appends an authentication block by key over the manifest digest
// (co-signing). The envelope's manifest must match the digest it carries.
func (e *Envelope) Sign(key *SigningKey) error {
	if _, err := e.CheckDigest(); err != nil {
		return err
	}
	auth, err := decodeAuthentication(e.AuthWrapper)
	if err != nil {
		return err
	}
	if len(auth.Blocks) == MaxAuthBlocks {
		return malformed("already %d authentication blocks", MaxAuthBlocks)
	}
	block, err := signCOSE(key, auth.DigestBytes)
	if err != nil {
		return err
	}
	auth.Blocks = append(auth.Blocks, block)
	e.AuthWrapper = auth.Encode()
	return nil
}

// BlockInfo describes an authentication block without verifying it.
type BlockInfo struct {
	Kind string // COSE_Sign1 or COSE_Mac0
	Alg  int64
}

// AuthBlocks describes the authentication blocks, for display.
func (e *Envelope) AuthBlocks() ([]BlockInfo, error) {
	auth, err := decodeAuthentication(e.AuthWrapper)
	if err != nil {
		return nil, err
	}
	infos := make([]BlockInfo, 0, len(auth.Blocks))
	for i, raw := range auth.Blocks {
		b, err := parseCOSEBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("authentication block %d: %w", i, err)
		}
		kind := "COSE_Sign1"
		if b.mac {
			kind = "COSE_Mac0"
		}
		infos = append(infos, BlockInfo{Kind: kind, Alg: b.alg})
	}
	return infos, nil
}
