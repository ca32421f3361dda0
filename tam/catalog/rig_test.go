package catalog_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

var (
	vendorID = bytes.Repeat([]byte{0xfa}, 16)
	classID  = bytes.Repeat([]byte{0x14}, 16)
	epoch    = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
)

// seeded is deterministic randomness.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func seed(b byte) seeded { return seeded{rand.NewChaCha8([32]byte{b})} }

// rig is a catalog over a memory store with registered authors: acme and
// globex (TA authors), fw (firmware: the secure and normal images) and
// op (an operator: co-signs the secure image).
type rig struct {
	st       *countedStore
	cat      *catalog.Catalog
	tam      *suit.SigningKey
	signers  map[string]*suit.SigningKey
	notified []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{st: newStore(t), signers: map[string]*suit.SigningKey{}}
	r.tam = signingKey(t)
	var err error
	r.cat, err = catalog.New(catalog.Config{Store: r.st, Key: r.tam, PublicURL: "https://tam.example/",
		Now: func() time.Time { return epoch }, Rand: seed(7), Notify: func(d string) { r.notified = append(r.notified, d) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name, kind string
		prefixes   []string
	}{
		{"acme", "ta", []string{"TA/acme"}},
		{"globex", "ta", []string{"['TA','globex']"}},
		{"fw", "firmware", []string{"secure", "normal"}},
		{"op", "operator", []string{"secure"}},
	} {
		k := signingKey(t)
		r.signers[a.name] = k
		pemKey, err := k.MarshalPublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		n := catalog.NewAuthor{Name: a.name, Kind: store.AuthorKind(a.kind), KeyPEM: pemKey}
		for _, p := range a.prefixes {
			id, err := catalog.ParseComponentID(p)
			if err != nil {
				t.Fatal(err)
			}
			n.Prefixes = append(n.Prefixes, id)
		}
		if _, err := r.cat.AddAuthor(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func signingKey(t testing.TB) *suit.SigningKey {
	t.Helper()
	k, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// as is a context carrying a principal publishing as author.
func as(author string, roles ...store.Role) context.Context {
	return auth.WithPrincipal(context.Background(), store.Principal{Name: author + "-token", Author: author, Roles: roles})
}

func id(parts ...string) suit.ComponentID {
	var c suit.ComponentID
	for _, p := range parts {
		c = append(c, []byte(p))
	}
	return c
}

// envelope builds an envelope installing payload as component c, fetched
// from the TAM, signed by the given keys.
func envelope(t testing.TB, c suit.ComponentID, seq uint64, payload []byte, signers ...*suit.SigningKey) []byte {
	t.Helper()
	sum := sha256.Sum256(payload)
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: vendorID, ClassID: classID,
		Components: []author.Component{{ID: c, Payload: payload, URI: "https://tam.example" + catalog.PayloadPath(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range signers {
		if err := env.Sign(s); err != nil {
			t.Fatal(err)
		}
	}
	return env.Encode()
}

// integrated is an envelope that carries its payload inside it.
func integrated(t testing.TB, c suit.ComponentID, seq uint64, payload []byte, signers ...*suit.SigningKey) []byte {
	t.Helper()
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: vendorID, ClassID: classID,
		Components: []author.Component{{ID: c, Payload: payload, Integrate: true, Name: "ta"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range signers {
		if err := env.Sign(s); err != nil {
			t.Fatal(err)
		}
	}
	return env.Encode()
}

// aDevice is a device's keys and its endorsement (with a TEEP Agent key)
// and agreement key, as its factory publishes them.
type aDevice struct {
	keys        *keys.Device
	agent       *ecdsa.PrivateKey
	endorsement []byte
	agreement   []byte
}

func newDevice(t testing.TB, s byte) *aDevice {
	t.Helper()
	dk, err := keys.NewDevice(seed(s))
	if err != nil {
		t.Fatal(err)
	}
	agent, err := ecdsa.GenerateKey(elliptic.P256(), seed(s+100))
	if err != nil {
		t.Fatal(err)
	}
	ak, err := ecdsa.GenerateKey(elliptic.P256(), seed(s+200))
	if err != nil {
		t.Fatal(err)
	}
	attPEM, err := dk.AttestationPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	area, name := tpmArea(t, &ak.PublicKey)
	e := &comid.Endorsement{Profile: "https://teeup.example/profile", Class: comid.Class{OEMID: vendorID, HWModel: classID},
		UEID: append([]byte{1}, bytes.Repeat([]byte{s}, 32)...), HWVersion: "test-1", AttestationKey: string(attPEM),
		TPM: comid.TPMKey{Public: area, Name: name}, AgentKey: string(publicPEM(t, &agent.PublicKey))}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	agreement, err := dk.AgreementPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	return &aDevice{keys: dk, agent: agent, endorsement: b, agreement: agreement}
}

func (d *aDevice) id(t testing.TB) string {
	t.Helper()
	s, err := catalog.DeviceID(&d.agent.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func publicPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// tpmArea is the public area of a restricted TPM signing key at pub, and
// its name (what an endorsement's TPM key must be).
func tpmArea(t testing.TB, pub *ecdsa.PublicKey) (area, name []byte) {
	t.Helper()
	raw, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	area = tpm2.Marshal(tpm2.TPMTPublic{
		Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
			UserWithAuth: true, NoDA: true, Restricted: true, SignEncrypt: true},
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
