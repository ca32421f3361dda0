package device

import (
	"bytes"
	"fmt"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// Identity of emulated devices: the vendor and class IDs their manifests
// must name (the same UUIDs as the draft's examples).
var (
	VendorID = []byte{0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe}
	ClassID  = []byte{0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45}
)

// Signers are the development signing keys of an emulated device: the
// firmware author (both components) and the device operator, whose
// co-signature the secure image needs.
type Signers struct {
	Author, Operator *suit.SigningKey
}

// NewSigners makes fresh development keys.
func NewSigners() (*Signers, error) {
	a, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		return nil, err
	}
	o, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		return nil, err
	}
	return &Signers{Author: a, Operator: o}, nil
}

// Policy is the trust policy of a device that trusts these signers: the
// author for both components, the operator for the secure image, and both
// required on the secure image.
func (s *Signers) Policy() (*keys.Policy, error) {
	a, err := s.Author.Public()
	if err != nil {
		return nil, err
	}
	o, err := s.Operator.Public()
	if err != nil {
		return nil, err
	}
	return PolicyFor(a, o), nil
}

// PolicyFor builds the device policy from the two public keys.
func PolicyFor(author, operator *suit.Key) *keys.Policy {
	return &keys.Policy{
		Anchors: []keys.Anchor{
			{Name: "author", Key: author, Prefixes: []suit.ComponentID{boot.Secure.ID(), boot.Normal.ID()}},
			{Name: "operator", Key: operator, Prefixes: []suit.ComponentID{boot.Secure.ID()}},
		},
		CoSign: []keys.CoSign{{Prefix: boot.Secure.ID(), Required: []string{"author", "operator"}}},
	}
}

// Envelope builds the SUIT envelope of an image of component c with
// sequence number seq, signed by signers (author first).
func Envelope(c boot.Component, seq uint64, image []byte, signers ...*suit.SigningKey) ([]byte, error) {
	return EnvelopeAt(c, seq, image, fmt.Sprintf("https://fw.teeup.example/%s-%d.bin", c, seq), signers...)
}

// EnvelopeAt is Envelope with the payload's URI given.
func EnvelopeAt(c boot.Component, seq uint64, image []byte, uri string, signers ...*suit.SigningKey) ([]byte, error) {
	env, err := suit.Build(&suit.BuildSpec{
		SequenceNumber: seq, VendorID: VendorID, ClassID: ClassID,
		Components: []suit.BuildComponent{{ID: c.ID(), Payload: image, URI: uri, Invoke: true}},
	})
	if err != nil {
		return nil, err
	}
	for _, k := range signers {
		if err := env.Sign(k); err != nil {
			return nil, err
		}
	}
	return env.Encode(), nil
}

// Release is a signed image of one component.
func (s *Signers) Release(c boot.Component, seq uint64, image []byte) (boot.Staged, error) {
	signers := []*suit.SigningKey{s.Author}
	if c == boot.Secure {
		signers = append(signers, s.Operator)
	}
	env, err := Envelope(c, seq, image, signers...)
	return boot.Staged{Component: c, Envelope: env, Image: image}, err
}

// BuiltinImage is a recognizable image of a component at a version,
// of the given size.
func BuiltinImage(c boot.Component, seq uint64, size int) []byte {
	line := fmt.Appendf(nil, "teeup %s image, sequence %d\n", c, seq)
	return bytes.Repeat(line, size/len(line)+1)[:size]
}
