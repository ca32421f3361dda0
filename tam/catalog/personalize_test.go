package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// registered is a rig with acme's TA hello published (sequence 3) and
// two devices registered.
func registered(t *testing.T) (*rig, *aDevice, *aDevice) {
	t.Helper()
	r := newRig(t)
	img := []byte("hello TA image")
	if _, err := r.cat.Publish(acme(r), catalog.Publication{Envelope: envelope(t, id("TA", "acme", "hello"), 3, img, r.signers["acme"]),
		Payloads: [][]byte{img}}); err != nil {
		t.Fatal(err)
	}
	a, b := newDevice(t, 1), newDevice(t, 2)
	for _, d := range []*aDevice{a, b} {
		if _, err := r.cat.AddDevice(context.Background(), catalog.NewDevice{Endorsement: d.endorsement, AgreementKeyPEM: d.agreement}); err != nil {
			t.Fatal(err)
		}
	}
	return r, a, b
}

// TestPersonalize: the TAM's manifest verifies under a device policy that
// trusts the TAM key for personalization only, is scoped to the device,
// and its detached ciphertext decrypts with that device's agreement key
// (secure/suit's device-side decryption) and with no other device's. The
// plaintext is stored nowhere.
func TestPersonalize(t *testing.T) {
	t.Parallel()
	r, dev, other := registered(t)
	secret := []byte("api-key=0123456789; region=eu")
	e, err := r.cat.Personalize(context.Background(), dev.id(t), id("TA", "acme", "hello"), secret)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != store.PersonalizationEnvelope || e.Device != dev.id(t) || e.Author != catalog.TAMAuthor || e.SequenceNumber != 3 ||
		len(e.Payloads) != 1 || e.Reference != nil {
		t.Fatalf("envelope %+v", e)
	}
	if got := r.notified[len(r.notified)-1]; got != dev.id(t) {
		t.Fatalf("notified %q, want the device", got)
	}
	for _, b := range append(r.st.payloadValues(), e.Raw) {
		if bytes.Contains(b, secret) {
			t.Fatal("the plaintext is stored")
		}
	}

	// The device's policy: its TA authors, and the TAM for personalization.
	tamPub, _ := r.tam.Public()
	acmePub, _ := r.signers["acme"].Public()
	policy := &keys.Policy{Anchors: []keys.Anchor{
		{Name: "ta-acme", Key: acmePub, Prefixes: []suit.ComponentID{id("TA", "acme")}}, keys.TAMAnchor("tam", tamPub)}}
	v, err := policy.Verify(e.Raw)
	if err != nil {
		t.Fatalf("the device's policy refuses the TAM's personalization manifest: %v", err)
	}
	if !v.Manifest.Components[0].Equal(id("TA", "acme", "hello", "personalization")) {
		t.Fatalf("components %v", v.Manifest.Components)
	}
	// The same TAM key signing a TA itself is refused by the same policy.
	tamTA := envelope(t, id("TA", "acme", "hello"), 4, []byte("evil"), r.tam)
	if _, err := policy.Verify(tamTA); !errors.Is(err, keys.ErrUnauthorized) {
		t.Fatalf("a TAM-signed TA: %v, want ErrUnauthorized", err)
	}

	ciphertext, err := r.st.Payload(context.Background(), e.Payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	info := encryptionInfo(t, v.Manifest)
	if got, err := decrypt(info, ciphertext, dev.keys); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("the device decrypts %q, %v", got, err)
	}
	if got, err := decrypt(info, ciphertext, other.keys); err == nil {
		t.Fatalf("another device decrypts %q", got)
	}
}

// encryptionInfo is the SUIT_Encryption_Info a manifest's install sets.
func encryptionInfo(t *testing.T, m *suit.Manifest) []byte {
	t.Helper()
	for _, cmd := range m.Members[suit.KeyInstall].Commands {
		if b, ok := cmd.Params.Bytes(suit.ParamEncryptionInfo); ok {
			return b
		}
	}
	t.Fatal("no encryption info in the install sequence")
	return nil
}

func decrypt(info, ciphertext []byte, dk *keys.Device) ([]byte, error) {
	var out bytes.Buffer
	w, err := suit.NewDecryptWriter(&out, info, dk.KeySource())
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(ciphertext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// TestPersonalizeRefused: personalization for an unknown device, a TC
// nobody published, a component that is no TA, or a device without an
// agreement key is refused and stores nothing.
func TestPersonalizeRefused(t *testing.T) {
	t.Parallel()
	r, dev, _ := registered(t)
	noKey := newDevice(t, 3)
	if _, err := r.cat.AddDevice(context.Background(), catalog.NewDevice{Endorsement: noKey.endorsement}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		device string
		tc     suit.ComponentID
		data   []byte
		want   error
	}{
		{"an unknown device", newDevice(t, 4).id(t), id("TA", "acme", "hello"), []byte("x"), catalog.ErrUnknownDevice},
		{"an unpublished TC", dev.id(t), id("TA", "acme", "other"), []byte("x"), catalog.ErrUnknownTC},
		{"not a TA", dev.id(t), id("secure"), []byte("x"), catalog.ErrInvalid},
		{"no data", dev.id(t), id("TA", "acme", "hello"), nil, catalog.ErrTooLarge},
		{"too much data", dev.id(t), id("TA", "acme", "hello"), make([]byte, catalog.MaxPersonalization+1), catalog.ErrTooLarge},
		{"a device without an agreement key", noKey.id(t), id("TA", "acme", "hello"), []byte("x"), catalog.ErrNoAgreementKey},
	}
	for _, tc := range tests {
		before := r.st.counts()
		if _, err := r.cat.Personalize(context.Background(), tc.device, tc.tc, tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if r.st.counts() != before {
			t.Errorf("%s: the store changed", tc.name)
		}
	}
}

// TestAddDevice: a device is registered under the thumbprint of its TEEP
// Agent key; a second registration, an endorsement without an Agent key
// and a bad agreement key are refused.
func TestAddDevice(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	d := newDevice(t, 1)
	got, err := r.cat.AddDevice(context.Background(), catalog.NewDevice{Name: "kitchen", Endorsement: d.endorsement, AgreementKeyPEM: d.agreement})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.id(t) || len(got.ID) != 64 || got.Name != "kitchen" || got.AgreementKey == nil {
		t.Fatalf("device %+v", got)
	}
	noAgent := newDevice(t, 2)
	noAgent.endorsement = bytes.Replace(noAgent.endorsement, []byte(`"agent_key"`), []byte(`"agent_kez"`), 1)
	tests := []struct {
		name string
		n    catalog.NewDevice
		want error
	}{
		{"again", catalog.NewDevice{Endorsement: d.endorsement}, catalog.ErrExists},
		{"an unknown endorsement field", catalog.NewDevice{Endorsement: noAgent.endorsement}, catalog.ErrInvalid},
		{"not an endorsement", catalog.NewDevice{Endorsement: []byte(`{}`)}, catalog.ErrInvalid},
		{"a bad agreement key", catalog.NewDevice{Endorsement: newDevice(t, 3).endorsement, AgreementKeyPEM: []byte("pem")}, catalog.ErrInvalid},
		{"bad reference values", catalog.NewDevice{Endorsement: newDevice(t, 4).endorsement, Reference: []byte(`{"x":1}`)}, catalog.ErrInvalid},
	}
	for _, tc := range tests {
		before := r.st.counts()
		if _, err := r.cat.AddDevice(context.Background(), tc.n); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if r.st.counts() != before {
			t.Errorf("%s: the store changed", tc.name)
		}
	}
}
