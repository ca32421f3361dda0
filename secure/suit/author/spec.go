package author

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// specFile is SPEC.json, the author's declaration of a manifest, which
// LoadSpec reads (docs/spec.md describes it for users):
//
//	{"sequence-number": 1,
//	 "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
//	 "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
//	 "components": [
//	   {"id": ["00"], "file": "secure.bin", "uri": "http://fw.example/secure.bin", "invoke": true},
//	   {"id": ["01"], "file": "normal.bin", "integrate": true},
//	   {"id": ["'TA'", "'acme'", "'hello'"], "file": "hello.ta", "uri": "http://fw.example/hello.ta"},
//	   {"id": ["'TA'", "'acme'", "'hello'", "'personalization'"], "content": "6b65793d31",
//	    "encrypt": {"recipient": "device.pub.pem", "alg": "A128GCM"}},
//	   {"id": ["'TA'", "'acme'", "'old'"], "unlink": true}],
//	 "sequences": ["install", "validate", "invoke"],
//	 "sever": ["text"],
//	 "text": {"en": {"manifest-description": "release 1.2"}}}
//
// A component ID part is hex, or text in single quotes. Payload files are
// read relative to SPEC.json; their digests and sizes go into the
// manifest. "unlink" removes the component (a TA) instead of installing
// it, and needs no payload. "encrypt" encrypts a component's payload for a
// device: "kek" names a file of 16 raw bytes (A128KW) and "recipient" the
// device's P-256 public key PEM (ECDH-ES+A128KW), exactly one of them;
// "kid" is an optional key ID (text) and "alg" A128GCM (default) or A128CTR.
// "decrypt-on-fetch" fetches an encrypted payload straight into its
// component, decrypting as it arrives (one pass), rather than through a
// staging component whose ciphertext digest is checked first.
type specFile struct {
	SequenceNumber *uint64                      `json:"sequence-number"`
	VendorID       string                       `json:"vendor-id"`
	ClassID        string                       `json:"class-id"`
	DeviceID       string                       `json:"device-id"`
	ReferenceURI   string                       `json:"reference-uri"`
	Components     []componentSpec              `json:"components"`
	Sequences      []string                     `json:"sequences"`
	Sever          []string                     `json:"sever"`
	Text           map[string]map[string]string `json:"text"`
}

type componentSpec struct {
	ID        []string     `json:"id"`
	File      string       `json:"file"`
	Content   string       `json:"content"` // hex, written with directive-write
	URI       string       `json:"uri"`
	Integrate bool         `json:"integrate"`
	Slot      *uint64      `json:"slot"`
	Invoke    bool         `json:"invoke"`
	Encrypt   *encryptSpec `json:"encrypt"`
	Unlink    bool         `json:"unlink"`
	// DecryptOnFetch: see Component.
	DecryptOnFetch bool `json:"decrypt-on-fetch"`
}

type encryptSpec struct {
	KEK       string `json:"kek"`
	Recipient string `json:"recipient"`
	KID       string `json:"kid"`
	Alg       string `json:"alg"`
}

// build reads the keys an encrypt spec names, relative to dir.
func (e *encryptSpec) build(dir string) (*EncryptSpec, error) {
	rel := func(f string) string {
		if filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(dir, f)
	}
	out := &EncryptSpec{}
	if e.KID != "" {
		out.KID = []byte(e.KID)
	}
	switch strings.ToUpper(e.Alg) {
	case "", "A128GCM", "GCM":
		out.Alg = suit.AlgA128GCM
	case "A128CTR", "CTR":
		out.Alg = suit.AlgA128CTR
	default:
		return nil, fmt.Errorf("encrypt: unknown algorithm %q (A128GCM or A128CTR)", e.Alg)
	}
	var err error
	switch {
	case (e.KEK == "") == (e.Recipient == ""):
		return nil, errors.New("encrypt: need exactly one of kek and recipient")
	case e.KEK != "":
		out.KEK, err = readKEK(rel(e.KEK))
	default:
		out.RecipientKey, err = ReadRecipientKey(rel(e.Recipient))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

var sequenceKeys = map[string]int64{
	"payload-fetch": suit.KeyPayloadFetch, "install": suit.KeyInstall, "validate": suit.KeyValidate,
	"load": suit.KeyLoad, "invoke": suit.KeyInvoke, "text": suit.KeyText,
}

var textKeys = map[string]int64{
	"manifest-description": 1, "update-description": 2, "manifest-json-source": 3, "manifest-yaml-source": 4,
}

// LoadSpec reads the SPEC.json at path and the files it names (relative to
// its directory) into a Manifest. integrateAll carries every file payload
// in the envelope, whatever its URI. Unknown fields, sequences, members and
// text keys are errors, never ignored.
func LoadSpec(path string, integrateAll bool) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSpec(f, path, filepath.Dir(path), SpecOptions{IntegrateAll: integrateAll})
}

// SpecOptions change how ReadSpec reads a spec.
type SpecOptions struct {
	// IntegrateAll carries every file payload in the envelope.
	IntegrateAll bool
	// VendorID and ClassID, when set, stand for a spec's missing vendor-id
	// and class-id (derived with VendorID and ClassID from names, say); a
	// spec that names them too must name the same, or it is refused.
	VendorID, ClassID []byte
}

// ErrIDConflict: a spec names a vendor or class ID other than the one
// given in SpecOptions.
var ErrIDConflict = errors.New("author: the spec names another ID")

// ErrSpecTooLarge: a spec of more than MaxSpecSize bytes.
var ErrSpecTooLarge = errors.New("author: the spec is larger than a spec may be")

// ReadSpec is LoadSpec for a spec read from r (at most MaxSpecSize bytes):
// name is what errors call it, and the files it names are relative to dir.
func ReadSpec(r io.Reader, name, dir string, opts SpecOptions) (*Manifest, error) {
	path, integrateAll := name, opts.IntegrateAll
	raw, err := io.ReadAll(io.LimitReader(r, MaxSpecSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxSpecSize {
		return nil, fmt.Errorf("%s: %w (%d bytes)", path, ErrSpecTooLarge, MaxSpecSize)
	}
	var s specFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.SequenceNumber == nil {
		return nil, fmt.Errorf("%s: sequence-number is required", path)
	}
	b := &Manifest{SequenceNumber: *s.SequenceNumber, ReferenceURI: s.ReferenceURI}
	if b.VendorID, err = specID(s.VendorID, opts.VendorID); err != nil {
		return nil, fmt.Errorf("%s: vendor-id: %w", path, err)
	}
	if b.ClassID, err = specID(s.ClassID, opts.ClassID); err != nil {
		return nil, fmt.Errorf("%s: class-id: %w", path, err)
	}
	if s.DeviceID != "" {
		if b.DeviceID, err = dryrun.ParseUUID(s.DeviceID); err != nil {
			return nil, fmt.Errorf("%s: device-id: %w", path, err)
		}
	}
	for _, name := range s.Sequences {
		key, ok := sequenceKeys[name]
		if !ok {
			return nil, fmt.Errorf("%s: unknown sequence %q", path, name)
		}
		b.Sequences = append(b.Sequences, key)
	}
	for _, name := range s.Sever {
		key, ok := sequenceKeys[name]
		if !ok {
			return nil, fmt.Errorf("%s: unknown member %q to sever", path, name)
		}
		b.Sever = append(b.Sever, key)
	}
	if len(s.Text) > 0 {
		b.Text = map[string]map[int64]string{}
		for lang, m := range s.Text {
			b.Text[lang] = map[int64]string{}
			for k, v := range m {
				key, ok := textKeys[k]
				if !ok {
					return nil, fmt.Errorf("%s: unknown text key %q", path, k)
				}
				b.Text[lang][key] = v
			}
		}
	}
	for i, c := range s.Components {
		id, err := dryrun.ParseComponentID(c.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: component %d: %w", path, i, err)
		}
		if c.Unlink {
			if c.File != "" || c.Content != "" || c.URI != "" || c.Encrypt != nil {
				return nil, fmt.Errorf("%s: component %d is unlinked: it takes no payload", path, i)
			}
			b.Components = append(b.Components, Component{ID: id, Unlink: true})
			continue
		}
		bc := Component{ID: id, URI: c.URI, Integrate: c.Integrate || (integrateAll && c.Content == ""),
			Slot: c.Slot, Invoke: c.Invoke, DecryptOnFetch: c.DecryptOnFetch}
		if c.Encrypt != nil {
			if bc.Encrypt, err = c.Encrypt.build(dir); err != nil {
				return nil, fmt.Errorf("%s: component %d: %w", path, i, err)
			}
		}
		switch {
		case c.File != "" && c.Content != "":
			return nil, fmt.Errorf("%s: component %d has both file and content", path, i)
		case c.File != "":
			f := c.File
			if !filepath.IsAbs(f) {
				f = filepath.Join(dir, f)
			}
			if bc.Payload, err = os.ReadFile(f); err != nil {
				return nil, err
			}
			bc.Name = filepath.Base(c.File)
		case c.Content != "":
			if bc.Payload, err = hex.DecodeString(c.Content); err != nil {
				return nil, fmt.Errorf("%s: component %d: content is not hex", path, i)
			}
			bc.Write = true
		default:
			return nil, fmt.Errorf("%s: component %d has neither file nor content", path, i)
		}
		if bc.Integrate {
			bc.URI = ""
		}
		b.Components = append(b.Components, bc)
	}
	return b, nil
}

// readKEK reads a file of 16 raw bytes: an A128KW key-encryption key.
func readKEK(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) != cekSize {
		return nil, fmt.Errorf("%s: a KEK is %d raw bytes, the file has %d", path, cekSize, len(raw))
	}
	return raw, nil
}

// ReadRecipientKey reads a device's P-256 public key (a PEM PUBLIC KEY
// block) to encrypt payloads for with ECDH-ES+A128KW.
func ReadRecipientKey(path string) (*ecdh.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: no PEM PUBLIC KEY block", path)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not an EC key", path, pub)
	}
	ek, err := k.ECDH()
	if err != nil || ek.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("%s: not a P-256 key", path)
	}
	return ek, nil
}

// specID is the UUID a spec names, or given when it names none; both, if
// different, are refused.
func specID(named string, given []byte) ([]byte, error) {
	if named == "" && given != nil {
		return given, nil
	}
	id, err := dryrun.ParseUUID(named)
	if err != nil {
		return nil, err
	}
	if given != nil && !bytes.Equal(id, given) {
		return nil, fmt.Errorf("%w: %s, not %s", ErrIDConflict, named, FormatUUID([16]byte(given)))
	}
	return id, nil
}
