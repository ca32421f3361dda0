package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// testKey is a P-256 key drawn from a seeded source, so a test is the same
// on every run.
func testKey(t testing.TB, seed int64) *ecdsa.PrivateKey {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	d := make([]byte, 32)
	r.Read(d)
	d[0] &= 0x7f // below the group order
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func testClaims() *Claims {
	return &Claims{
		Nonce:     bytes.Repeat([]byte{0xA5}, 16),
		UEID:      append([]byte{0x01}, bytes.Repeat([]byte{0x42}, 16)...),
		OEMID:     []byte{0x00, 0x1A, 0x2B},
		HWModel:   []byte("teeup-emulated-v1"),
		HWVersion: "1.0",
		Debug:     DebugDisabledSinceBoot,
		BootCount: 7,
		Components: []Component{
			{Name: "['secure']", Kind: KindImage, Digest: digest("secure image"), ManifestDigest: digest("secure manifest"), Sequence: 3, Signer: digest("fw author")},
			{Name: "['normal']", Kind: KindImage, Digest: digest("normal image"), ManifestDigest: digest("normal manifest"), Sequence: 5, Signer: digest("fw author")},
			{Name: "['ta','01']", Kind: KindTA, Digest: digest("ta image"), ManifestDigest: digest("ta manifest"), Sequence: 1, Signer: digest("ta author")},
		},
	}
}

func TestEATRoundTrip(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	c := testClaims()
	s, err := SignClaims(c, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyEAT(s.COSE, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Claims, c) {
		t.Errorf("claims\n got %+v\nwant %+v", v.Claims, c)
	}
	if !bytes.Equal(v.PayloadHash, s.QuoteData()) {
		t.Errorf("payload hash %x, quote data %x", v.PayloadHash, s.QuoteData())
	}
	// The payload is deterministic: the same claims encode the same.
	again, err := encodePayload(c)
	if err != nil || !bytes.Equal(again, s.Payload) {
		t.Errorf("payload not deterministic: %v", err)
	}
}

func TestVerifyEATRefuses(t *testing.T) {
	t.Parallel()
	key, other := testKey(t, 1), testKey(t, 2)
	s, err := SignClaims(testClaims(), key)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(s.COSE)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name string
		eat  []byte
		pub  *ecdsa.PublicKey
		want error
	}{
		{"another device's key", s.COSE, &other.PublicKey, ErrSignature},
		{"tampered signature", tampered, &key.PublicKey, ErrSignature},
		{"no key", s.COSE, nil, ErrSignature},
		{"not COSE", []byte{0x01}, &key.PublicKey, ErrMalformed},
		{"too long", make([]byte, MaxEAT+1), &key.PublicKey, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyEAT(tc.eat, tc.pub)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrRejected) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDecodePayloadStrict: a claims set that breaks the profile is
// refused even under a good signature.
func TestDecodePayloadStrict(t *testing.T) {
	t.Parallel()
	good, err := encodePayload(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	var m map[int]cbor.RawMessage
	if err := cbor.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(map[int]cbor.RawMessage)) []byte {
		c := make(map[int]cbor.RawMessage, len(m))
		for k, v := range m {
			c[k] = v
		}
		f(c)
		b, err := encMode.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The same map with eat_nonce (key 10) once more at its end.
	if good[0] < 0xA0 || good[0] >= 0xB7 {
		t.Fatalf("payload header %#x is not a short map", good[0])
	}
	dup := append([]byte{good[0] + 1}, good[1:]...)
	dup = append(append(dup, 0x0A, 0x50), bytes.Repeat([]byte{0xA5}, 16)...)
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"trailing bytes", append(bytes.Clone(good), 0x00)},
		{"unknown claim", edit(func(c map[int]cbor.RawMessage) { c[-70000] = cbor.RawMessage{0x01} })},
		{"no nonce", edit(func(c map[int]cbor.RawMessage) { delete(c, 10) })},
		{"no ueid", edit(func(c map[int]cbor.RawMessage) { delete(c, 256) })},
		{"no dbgstat", edit(func(c map[int]cbor.RawMessage) { delete(c, 263) })},
		{"no profile", edit(func(c map[int]cbor.RawMessage) { delete(c, 265) })},
		{"other profile", edit(func(c map[int]cbor.RawMessage) {
			c[265] = cbor.RawMessage(append([]byte{0x71}, "https://other.org"...))
		})},
		{"no component details", edit(func(c map[int]cbor.RawMessage) { delete(c, claimComponents) })},
		{"short nonce", edit(func(c map[int]cbor.RawMessage) { c[10] = cbor.RawMessage{0x41, 0x00} })},
		{"duplicate claim", dup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodePayload(tc.payload); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSignClaimsRefuses(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	for _, tc := range []struct {
		name string
		edit func(*Claims)
	}{
		{"short nonce", func(c *Claims) { c.Nonce = c.Nonce[:7] }},
		{"long nonce", func(c *Claims) { c.Nonce = make([]byte, 65) }},
		{"no ueid", func(c *Claims) { c.UEID = nil }},
		{"bad dbgstat", func(c *Claims) { c.Debug = 9 }},
		{"short digest", func(c *Claims) { c.Components[0].Digest = c.Components[0].Digest[:31] }},
		{"component twice", func(c *Claims) { c.Components[1].Name = c.Components[0].Name }},
		{"no signer", func(c *Claims) { c.Components[2].Signer = nil }},
		{"no kind", func(c *Claims) { c.Components[2].Kind = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClaims()
			tc.edit(c)
			if _, err := SignClaims(c, key); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
}
