package device

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
)

// Identity of emulated devices: the vendor and class IDs their manifests
// must name (the same UUIDs as the draft's examples).
var (
	VendorID = []byte{0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe}
	ClassID  = []byte{0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45}
)

// Signers are the development signing keys of an emulated device: the
// firmware author (both components), the device operator, whose
// co-signature the secure image needs, and the TA authors, each trusted
// for its own TAs only.
type Signers struct {
	Author, Operator *suit.SigningKey
	// TAAuthors by author name: the key of "acme" may touch the
	// components under ["TA", "acme"].
	TAAuthors map[string]*suit.SigningKey
}

// DevTAAuthors are the TA authors a development device trusts.
var DevTAAuthors = []string{"acme", "globex"}

// NewSigners makes fresh development keys.
func NewSigners() (*Signers, error) {
	gen := func() (*suit.SigningKey, error) { return suit.GenerateSigningKey(suit.AlgES256) }
	s := &Signers{TAAuthors: map[string]*suit.SigningKey{}}
	var err error
	if s.Author, err = gen(); err != nil {
		return nil, err
	}
	if s.Operator, err = gen(); err != nil {
		return nil, err
	}
	for _, name := range DevTAAuthors {
		if s.TAAuthors[name], err = gen(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Policy is the trust policy of a device that trusts these signers.
func (s *Signers) Policy() (*keys.Policy, error) {
	pub := map[string]*suit.Key{}
	for name, k := range s.named() {
		var err error
		if pub[name], err = k.Public(); err != nil {
			return nil, err
		}
	}
	return PolicyFor(pub), nil
}

// named lists the signers by the name of their trust anchor.
func (s *Signers) named() map[string]*suit.SigningKey {
	out := map[string]*suit.SigningKey{authorName: s.Author, operatorName: s.Operator}
	for name, k := range s.TAAuthors {
		out[taAuthorPrefix+name] = k
	}
	return out
}

// taAuthorPrefix starts the anchor name of a TA author.
const taAuthorPrefix = "ta-"

// PolicyFor builds the device policy from the public keys by anchor name:
// "author" for both images, "operator" for the secure image, both required
// on the secure image, and each "ta-NAME" for the TAs under ["TA", NAME].
func PolicyFor(anchors map[string]*suit.Key) *keys.Policy {
	p := &keys.Policy{
		Anchors: []keys.Anchor{
			{Name: authorName, Key: anchors[authorName], Prefixes: []suit.ComponentID{boot.Secure.ID(), boot.Normal.ID()}},
			{Name: operatorName, Key: anchors[operatorName], Prefixes: []suit.ComponentID{boot.Secure.ID()}},
		},
		CoSign: []keys.CoSign{{Prefix: boot.Secure.ID(), Required: []string{authorName, operatorName}}},
	}
	var names []string
	for name := range anchors {
		if strings.HasPrefix(name, taAuthorPrefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		author := strings.TrimPrefix(name, taAuthorPrefix)
		p.Anchors = append(p.Anchors, keys.Anchor{Name: name, Key: anchors[name],
			Prefixes: []suit.ComponentID{TAPrefix(author)}})
	}
	return p
}

// TAPrefix is the component-ID prefix of an author's TAs.
func TAPrefix(author string) suit.ComponentID {
	return ta.Prefix(author)
}

// Envelope builds the SUIT envelope of an image of component c with
// sequence number seq, signed by signers (author first).
func Envelope(c boot.Component, seq uint64, image []byte, signers ...*suit.SigningKey) ([]byte, error) {
	return EnvelopeAt(c, seq, image, fmt.Sprintf("https://fw.teeup.example/%s-%d.bin", c, seq), signers...)
}

// EnvelopeAt is Envelope with the payload's URI given.
func EnvelopeAt(c boot.Component, seq uint64, image []byte, uri string, signers ...*suit.SigningKey) ([]byte, error) {
	env, err := author.Build(&author.Manifest{
		SequenceNumber: seq, VendorID: VendorID, ClassID: ClassID,
		Components: []author.Component{{ID: c.ID(), Payload: image, URI: uri, Invoke: true}},
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
