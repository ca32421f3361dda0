package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/veraison/ear"
	"github.com/veraison/eat"
)

// The published evidence and results (testdata/*/README.md names their
// sources): our verifier decodes and checks them, so it is not tied to
// our own encoder.

func readVector(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readJWK reads a published P-256 public JWK.
func readJWK(t *testing.T, path ...string) *ecdsa.PublicKey {
	t.Helper()
	var k struct{ Kty, Crv, X, Y string }
	if err := json.Unmarshal(readVector(t, path...), &k); err != nil {
		t.Fatal(err)
	}
	x, errX := base64.RawURLEncoding.DecodeString(k.X)
	y, errY := base64.RawURLEncoding.DecodeString(k.Y)
	if k.Kty != "EC" || k.Crv != "P-256" || errX != nil || errY != nil {
		t.Fatalf("%v: not a P-256 JWK", path)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("%v: %v", path, err)
	}
	return pub
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// checkPublishedSign1 verifies a published COSE_Sign1 with pub, and that
// a flipped bit or another key fails, and returns its payload.
func checkPublishedSign1(t *testing.T, file []byte, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	msg, err := decodeSign1(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifySign1(msg, pub); err != nil {
		t.Fatalf("published signature: %v", err)
	}
	if err := verifySign1(msg, &testKey(t, 1).PublicKey); !errors.Is(err, ErrSignature) {
		t.Errorf("verifies with another key: %v", err)
	}
	bad := bytes.Clone(file)
	bad[len(bad)-10] ^= 1
	if m, err := decodeSign1(bad); err != nil || !errors.Is(verifySign1(m, pub), ErrSignature) {
		t.Errorf("a flipped signature bit verifies (%v)", err)
	}
	return msg.Payload
}

func TestConformanceEAT(t *testing.T) {
	t.Parallel()
	pub := readJWK(t, "teep-wasm-demo-evidence", "keys", "attester-es256-pub.jwk")
	for _, name := range []string{"eat_evidence.attester.es256.cose", "eat_evidence_measurements.attester.es256.cose"} {
		t.Run(name, func(t *testing.T) {
			payload := checkPublishedSign1(t, readVector(t, "teep-wasm-demo-evidence", name), pub)
			var e eat.Eat
			if err := e.FromCBOR(payload); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Nonce.GetI(0), unhex("948F8860D13A463E8E")) || !bytes.Equal(*e.UEID, append([]byte{0x01}, "building-dev-123"...)) ||
				!bytes.Equal(*e.OemID, unhex("894823")) || e.HardwareVersion.Version != "1.3.4" {
				t.Errorf("claims: nonce %x ueid %x oemid %x hwversion %v", e.Nonce.GetI(0), *e.UEID, *e.OemID, e.HardwareVersion)
			}
			if p, err := e.Profile.Get(); err != nil || p != "urn:ietf:rfc:rfc9711" {
				t.Errorf("profile %q, %v", p, err)
			}
			if e.Measurements != nil {
				ms := *e.Measurements
				if len(ms) != 1 || ms[0].Type != ContentFormatMeasuredComponent {
					t.Fatalf("measurements %+v", ms)
				}
				var mc eat.MeasuredComponent
				if err := decMode.Unmarshal(ms[0].Format, &mc); err != nil {
					t.Fatal(err)
				}
				if mc.Id.Name != "TEEP Agent" || mc.Id.Version.Version != "1.3.4" || !bytes.Equal(mc.Measurement.HashValue, bytes.Repeat(unhex("DEADBEEF"), 8)) {
					t.Errorf("measured component %+v", mc)
				}
			}
			// It is another profile than ours: our decoder refuses it.
			if _, err := decodePayload(payload); !errors.Is(err, ErrMalformed) {
				t.Errorf("our profile's decoder: %v", err)
			}
		})
	}
}

func TestConformancePSAToken(t *testing.T) {
	t.Parallel()
	pub := readJWK(t, "teep-wasm-demo-evidence", "keys", "attester-es256-pub.jwk")
	payload := checkPublishedSign1(t, readVector(t, "teep-wasm-demo-evidence", "psa_token_evidence.attester.es256.cose"), pub)
	var claims map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	var profile string
	var nonce, instance []byte
	var components []map[int64]any
	for key, v := range map[int64]any{265: &profile, 10: &nonce, 256: &instance, 2399: &components} {
		if err := decMode.Unmarshal(claims[key], v); err != nil {
			t.Fatalf("claim %d: %v", key, err)
		}
	}
	if profile != "http://arm.com/psa/2.0.0" || len(nonce) != 32 || len(instance) != 33 || len(components) != 3 || components[0][1] != "BL" {
		t.Errorf("PSA claims: profile %q nonce %x instance %x components %v", profile, nonce, instance, components)
	}
}

func TestConformanceEAR(t *testing.T) {
	t.Parallel()
	veraison := readJWK(t, "ear", "veraison-ear-verifier-pub.jwk")
	// The file holds the JWT as a JSON string, as Veraison's API returns it.
	var token string
	if err := json.Unmarshal(readVector(t, "teep-wasm-demo-evidence", "eat_attestation_result.jwt"), &token); err != nil {
		t.Fatal(err)
	}
	jwt := []byte(token)
	ar, err := VerifyEAR(jwt, veraison)
	if err != nil {
		t.Fatal(err)
	}
	sub := ar.Submods["PSA_IOT"]
	if sub == nil || *sub.Status != ear.TrustTierAffirming || sub.TrustVector.Executables != ear.ApprovedRuntimeClaim || *ar.IssuedAt != 1759149970 {
		t.Errorf("EAR %+v", ar)
	}
	attester := readJWK(t, "teep-wasm-demo-evidence", "keys", "attester-es256-pub.jwk")
	if _, err := VerifyEAR(jwt, attester); !errors.Is(err, ErrResult) {
		t.Errorf("verifies with the attester's key: %v", err)
	}

	// The EAR draft's example: the signature is Veraison's, but its iat
	// is a float, which a strict checker refuses.
	draft := bytes.TrimSpace(readVector(t, "ear", "draft-ear-example.jwt"))
	if _, err := jws.Verify(draft, jws.WithKey(jwa.ES256(), veraison)); err != nil {
		t.Fatalf("the draft example's signature: %v", err)
	}
	if _, err := VerifyEAR(draft, veraison); !errors.Is(err, ErrResult) {
		t.Errorf("the draft example with a float iat: %v", err)
	}
}

// FuzzDecodeEAT fuzzes the EAT's decoders (COSE_Sign1, then our claims
// set, which Verify runs only after the signature verified), seeded with
// the published EATs and ours.
func FuzzDecodeEAT(f *testing.F) {
	for _, name := range []string{"eat_evidence.attester.es256.cose", "eat_evidence_measurements.attester.es256.cose", "psa_token_evidence.attester.es256.cose"} {
		b, err := os.ReadFile(filepath.Join("testdata", "teep-wasm-demo-evidence", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	s, err := SignClaims(testClaims(), testKey(f, 1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.COSE)
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := decodeSign1(b)
		if err != nil {
			return
		}
		c, err := decodePayload(msg.Payload)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("refusal not ErrRejected: %v", err)
			}
			return
		}
		// What decodes is within the profile and encodes again.
		if _, err := encodePayload(c); err != nil {
			t.Fatalf("decoded claims do not encode: %v", err)
		}
	})
}
