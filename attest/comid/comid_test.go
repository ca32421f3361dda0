package comid_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/attest/comid"
)

// seeded is deterministic randomness for key generation.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newKey(t testing.TB, seed byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), seeded{rand.NewChaCha8([32]byte{seed})})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tpmArea is the public area of a TPM key at point pub with attributes
// attrs, and its name.
func tpmArea(t testing.TB, pub *ecdsa.PublicKey, attrs tpm2.TPMAObject) (area, name []byte) {
	t.Helper()
	raw, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	area = tpm2.Marshal(tpm2.TPMTPublic{
		Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDSA,
				Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256})},
			CurveID: tpm2.TPMECCNistP256,
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: raw[1:33]}, Y: tpm2.TPM2BECCParameter{Buffer: raw[33:]}}),
	})
	sum := sha256.Sum256(area)
	return area, append(binary.BigEndian.AppendUint16(nil, uint16(tpm2.TPMAlgSHA256)), sum[:]...)
}

var akAttributes = tpm2.TPMAObject{FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
	UserWithAuth: true, NoDA: true, Restricted: true, SignEncrypt: true}

func endorsement(t testing.TB) (*comid.Endorsement, *ecdsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	dev, ak := newKey(t, 1), newKey(t, 2)
	der, err := x509.MarshalPKIXPublicKey(&dev.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	area, name := tpmArea(t, &ak.PublicKey, akAttributes)
	return &comid.Endorsement{
		Profile: "https://example.com/profile", Class: comid.Class{OEMID: bytes.Repeat([]byte{1}, 16), HWModel: bytes.Repeat([]byte{2}, 16)},
		UEID: append([]byte{1}, bytes.Repeat([]byte{3}, 32)...), HWVersion: "1.0",
		AttestationKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		TPM:            comid.TPMKey{Public: area, Name: name},
	}, dev, ak
}

// TestEndorsementRoundTrip: an endorsement encodes and decodes to the same
// keys.
func TestEndorsementRoundTrip(t *testing.T) {
	t.Parallel()
	e, dev, ak := endorsement(t)
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := comid.DecodeEndorsement(b)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := got.DeviceKey()
	if err != nil || !dk.Equal(&dev.PublicKey) {
		t.Fatalf("device key %v", err)
	}
	tk, err := got.TPMKey()
	if err != nil || !tk.Equal(&ak.PublicKey) {
		t.Fatalf("TPM key %v", err)
	}
	// The TEEP Agent's key, when given, reads back too.
	e.AgentKey = e.AttestationKey
	if b, err = e.Encode(); err != nil {
		t.Fatal(err)
	}
	if got, err = comid.DecodeEndorsement(b); err != nil {
		t.Fatal(err)
	}
	if k, err := got.TEEPAgentKey(); err != nil || !k.Equal(&dev.PublicKey) {
		t.Fatalf("agent key %v", err)
	}
}

// TestEndorsementRefused: each way an endorsement can lie about its keys,
// or break its format, is refused as malformed.
func TestEndorsementRefused(t *testing.T) {
	t.Parallel()
	other := newKey(t, 9)
	for _, tc := range []struct {
		name string
		edit func(e *comid.Endorsement)
	}{
		{"name of another area", func(e *comid.Endorsement) { _, e.TPM.Name = tpmArea(t, &other.PublicKey, akAttributes) }},
		{"area edited", func(e *comid.Endorsement) { e.TPM.Public[len(e.TPM.Public)-1] ^= 1 }},
		{"unrestricted TPM key", func(e *comid.Endorsement) {
			a := akAttributes
			a.Restricted = false
			e.TPM.Public, e.TPM.Name = tpmArea(t, &other.PublicKey, a)
		}},
		{"TPM key made outside the TPM", func(e *comid.Endorsement) {
			a := akAttributes
			a.SensitiveDataOrigin = false
			e.TPM.Public, e.TPM.Name = tpmArea(t, &other.PublicKey, a)
		}},
		{"no attestation key", func(e *comid.Endorsement) { e.AttestationKey = "" }},
		{"attestation key with trailing data", func(e *comid.Endorsement) { e.AttestationKey += "x" }},
		{"agent key with trailing data", func(e *comid.Endorsement) { e.AgentKey = e.AttestationKey + "x" }},
		{"agent key not PEM", func(e *comid.Endorsement) { e.AgentKey = "agent" }},
		{"no ueid", func(e *comid.Endorsement) { e.UEID = nil }},
		{"no profile", func(e *comid.Endorsement) { e.Profile = "" }},
		{"no class", func(e *comid.Endorsement) { e.Class = comid.Class{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := endorsement(t)
			tc.edit(e)
			if _, err := e.Encode(); !errors.Is(err, comid.ErrMalformed) {
				t.Fatalf("Encode: %v, want ErrMalformed", err)
			}
		})
	}
	for _, tc := range []struct{ name, json string }{
		{"unknown field", `{"profile":"p","extra":1}`},
		{"two values", `{} {}`},
		{"not hex", `{"ueid":"zz"}`},
		{"not JSON", `[`},
	} {
		if _, err := comid.DecodeEndorsement([]byte(tc.json)); !errors.Is(err, comid.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
		}
	}
}

func reference(component string, seq uint64) comid.Reference {
	d := sha256.Sum256([]byte(component))
	m := sha256.Sum256([]byte{byte(seq)})
	return comid.Reference{Component: component, Kind: comid.KindImage, SequenceNumber: seq,
		Digest: d[:], ManifestDigest: m[:], Signers: []comid.Hex{d[:]}}
}

// TestReferenceValues: Add replaces a version and keeps the list in
// order; the file round-trips; a malformed one is refused.
func TestReferenceValues(t *testing.T) {
	t.Parallel()
	var r comid.ReferenceValues
	r.Add(reference("['secure']", 2), reference("['normal']", 1), reference("['secure']", 1))
	again := reference("['secure']", 2)
	again.Digest = bytes.Repeat([]byte{7}, 32)
	r.Add(again)
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := comid.DecodeReferenceValues(b)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range got.Components {
		order = append(order, c.Component+string(rune('0'+c.SequenceNumber)))
	}
	if want := []string{"['normal']1", "['secure']1", "['secure']2"}; !equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if ref, ok := got.Lookup("['secure']", 2); !ok || !bytes.Equal(ref.Digest, again.Digest) {
		t.Fatalf("Lookup: %v %x", ok, ref.Digest)
	}
	for _, tc := range []struct {
		name string
		edit func(r *comid.Reference)
	}{
		{"short digest", func(r *comid.Reference) { r.Digest = r.Digest[:31] }},
		{"no signer", func(r *comid.Reference) { r.Signers = nil }},
		{"short signer", func(r *comid.Reference) { r.Signers = []comid.Hex{{1}} }},
		{"unknown kind", func(r *comid.Reference) { r.Kind = "rom" }},
		{"no component", func(r *comid.Reference) { r.Component = "" }},
	} {
		ref := reference("['secure']", 1)
		tc.edit(&ref)
		bad := comid.ReferenceValues{Components: []comid.Reference{ref}}
		if _, err := bad.Encode(); !errors.Is(err, comid.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
		}
	}
	twice := comid.ReferenceValues{Components: []comid.Reference{reference("['secure']", 1), reference("['secure']", 1)}}
	if _, err := twice.Encode(); !errors.Is(err, comid.ErrMalformed) {
		t.Errorf("a version listed twice: %v", err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMatch: a claimed version matches its reference; each mismatch is
// refused with its own reason.
func TestMatch(t *testing.T) {
	t.Parallel()
	var r comid.ReferenceValues
	r.Add(reference("['secure']", 2), reference("['secure']", 4))
	ok := func(seq uint64) comid.Claimed {
		ref, _ := r.Lookup("['secure']", seq)
		return comid.Claimed{Component: ref.Component, Kind: ref.Kind, SequenceNumber: seq, Digest: ref.Digest,
			ManifestDigest: ref.ManifestDigest, Signer: ref.Signers[0]}
	}
	if err := r.Match(ok(2)); err != nil {
		t.Fatalf("the published version: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(c *comid.Claimed)
		want error
	}{
		{"another image digest", func(c *comid.Claimed) { c.Digest = bytes.Repeat([]byte{9}, 32) }, comid.ErrDigest},
		{"another manifest digest", func(c *comid.Claimed) { c.ManifestDigest = bytes.Repeat([]byte{9}, 32) }, comid.ErrDigest},
		{"another signer", func(c *comid.Claimed) { c.Signer = bytes.Repeat([]byte{9}, 32) }, comid.ErrSigner},
		{"below the references", func(c *comid.Claimed) { c.SequenceNumber = 1 }, comid.ErrBelowReference},
		{"an unpublished version", func(c *comid.Claimed) { c.SequenceNumber = 3 }, comid.ErrUnpublishedVersion},
		{"an unknown component", func(c *comid.Claimed) { c.Component = "['TA','x','y']" }, comid.ErrUnknownComponent},
		{"another kind", func(c *comid.Claimed) { c.Kind = comid.KindTA }, comid.ErrUnknownComponent},
	} {
		c := ok(2)
		tc.edit(&c)
		if err := r.Match(c); !errors.Is(err, tc.want) || !errors.Is(err, comid.ErrNotReference) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
