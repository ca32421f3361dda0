package teep

import (
	"bytes"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/suit"
)

func signingKey(t testing.TB, alg int64) *suit.SigningKey {
	t.Helper()
	k, err := suit.GenerateSigningKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t testing.TB, k *suit.SigningKey) *suit.Key {
	t.Helper()
	p, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignOpen: ESP256 and Ed25519 sign; the message opens with the key, in
// the numbering it was written in, with the key's thumbprint as kid; a
// flipped bit anywhere or another key does not open.
func TestSignOpen(t *testing.T) {
	t.Parallel()
	for _, alg := range SignAlgs {
		for _, n := range []Numbering{Draft26, Legacy} {
			t.Run(suit.AlgName(alg)+"/"+n.String(), func(t *testing.T) {
				t.Parallel()
				key := signingKey(t, alg)
				pub := publicKey(t, key)
				m := samples()["update"]
				data, err := Sign(m, n, key)
				if err != nil {
					t.Fatal(err)
				}
				s, err := Open(data, []*suit.Key{publicKey(t, signingKey(t, alg)), pub}, Draft26)
				if err != nil {
					t.Fatal(err)
				}
				kid, _ := Thumbprint(pub.Public)
				if s.Numbering != n || s.Alg != alg || !bytes.Equal(s.KID, kid) || s.By != pub {
					t.Fatalf("opened %+v", s)
				}
				if _, err := Open(data, []*suit.Key{publicKey(t, signingKey(t, alg))}, n); !errors.Is(err, ErrSignature) {
					t.Fatalf("another key: %v", err)
				}
				// Every byte but the unprotected header's ({4: kid}, which
				// the signature does not cover, by COSE's design).
				unprotStart := 3 + int(data[2]&0x1f)
				unprotEnd := unprotStart + 4 + len(kid)
				if data[unprotStart] != 0xa1 {
					t.Fatalf("unexpected layout %x", data[:unprotEnd])
				}
				for i := range data {
					if i >= unprotStart && i < unprotEnd {
						continue
					}
					bad := bytes.Clone(data)
					bad[i] ^= 0x01
					if _, err := Open(bad, []*suit.Key{pub}, n); err == nil {
						t.Fatalf("opened with bit 0 of byte %d flipped", i)
					}
				}
			})
		}
	}
}

// TestOpenAccepts: messages signed with ES256 and EdDSA (earlier peers)
// open; Sign refuses them and ES384 is not accepted.
func TestOpenAccepts(t *testing.T) {
	t.Parallel()
	payload, err := Encode(&Success{Token: token}, Legacy)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []int64{AlgES256, AlgEdDSA} {
		key := signingKey(t, alg)
		data, err := suit.SignSign1(key, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OpenAs(data, []*suit.Key{publicKey(t, key)}, Legacy); err != nil {
			t.Errorf("%s: %v", suit.AlgName(alg), err)
		}
		if _, err := Sign(&Success{}, Draft26, key); !errors.Is(err, ErrAlgorithm) {
			t.Errorf("Sign with %s: %v", suit.AlgName(alg), err)
		}
	}
	key := signingKey(t, suit.AlgES384)
	data, err := suit.SignSign1(key, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(data, []*suit.Key{publicKey(t, key)}, Draft26); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("ES384: %v", err)
	}
}

// TestOpenRefusesUnsigned: a bare message, a COSE_Mac0 and an oversized
// input are not opened.
func TestOpenRefusesUnsigned(t *testing.T) {
	t.Parallel()
	key := signingKey(t, AlgESP256)
	keys := []*suit.Key{publicKey(t, key)}
	bare, _ := Encode(&Success{Token: token}, Draft26)
	if _, err := Open(bare, keys, Draft26); !errors.Is(err, ErrMalformed) {
		t.Errorf("bare: %v", err)
	}
	if _, err := Open(make([]byte, MaxMessageSize+1), keys, Draft26); !errors.Is(err, ErrLimit) {
		t.Errorf("oversized: %v", err)
	}
	mac, err := suit.NewMACSigningKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := suit.SignSign1(mac, bare, nil); err == nil {
		t.Error("SignSign1 made a MAC")
	}
}
