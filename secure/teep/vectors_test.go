package teep

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/teeup/teeup/secure/suit"
)

// vector is one published TEEP message of testdata/.
type vector struct {
	file      string
	numbering Numbering
	typ       MessageType
	key       string // the key file that verifies it ("" when unsigned)
	canonical bool   // the payload is core deterministic CBOR
	ambiguous bool   // both numberings read it alike: Decode follows prefer
}

// unknownKey marks a vector signed by a key that is not in the set.
const unknownKey = "?"

const (
	draft26 = "teep-draft-26/"
	legacy  = "teep-legacy-a9d2fad/"
	libteep = "libteep-testfiles/"
	wasm    = "teep-wasm-demo-prebuilt/"

	libTAM   = libteep + "key/tam_prime256v1_pub.pem"
	libAgent = libteep + "key/teep_agent_prime256v1_pub.pem"
	wasmTAM  = wasm + "keys/tam-esp256-pub.jwk"
	wasmAgt  = wasm + "keys/agent-esp256-pub.jwk"
)

var vectors = []vector{
	{draft26 + "query_request.cbor", Draft26, TypeQueryRequest, "", false, false},
	{draft26 + "query_response.cbor", Draft26, TypeQueryResponse, "", false, false},
	{draft26 + "update.cbor", Draft26, TypeUpdate, "", false, false},
	{draft26 + "teep_success.cbor", Draft26, TypeSuccess, "", true, false},
	{draft26 + "teep_error.cbor", Draft26, TypeError, "", false, false},
	{legacy + "query_request.cbor", Legacy, TypeQueryRequest, "", false, false},
	{legacy + "query_response.cbor", Legacy, TypeQueryResponse, "", false, false},
	{legacy + "update.cbor", Legacy, TypeUpdate, "", false, false},
	{legacy + "teep_success.cbor", Legacy, TypeSuccess, "", true, false},
	{legacy + "teep_error.cbor", Legacy, TypeError, "", false, false},
	{libteep + "query_request.cbor", Legacy, TypeQueryRequest, "", false, false},
	{libteep + "query_request_cose.cbor", Legacy, TypeQueryRequest, libTAM, false, false},
	{libteep + "query_request_es256.cbor", Legacy, TypeQueryRequest, unknownKey, false, false},
	{libteep + "query_response.cbor", Legacy, TypeQueryResponse, "", false, false},
	{libteep + "query_response_cose.cbor", Legacy, TypeQueryResponse, libAgent, false, false},
	{libteep + "update.cbor", Legacy, TypeUpdate, "", false, false},
	{libteep + "update_cose.cbor", Legacy, TypeUpdate, libTAM, false, false},
	{libteep + "ta_update.cbor", Legacy, TypeUpdate, "", true, false},
	{libteep + "ta_update2.cbor", Legacy, TypeUpdate, "", false, false},
	{libteep + "teep_success.cbor", Legacy, TypeSuccess, "", true, false},
	{libteep + "teep_success_cose.cbor", Legacy, TypeSuccess, libAgent, true, false},
	{libteep + "teep_error.cbor", Legacy, TypeError, "", false, false},
	{libteep + "teep_error_cose.cbor", Legacy, TypeError, libAgent, false, false},
	// Only a challenge (label 2, the same in both): either reading is
	// the same message.
	{wasm + "query_request.tam.esp256.cose", Draft26, TypeQueryRequest, wasmTAM, true, true},
	{wasm + "query_response_eat.agent.esp256.cose", Draft26, TypeQueryResponse, wasmAgt, true, false},
	{wasm + "query_response_psa.agent.esp256.cose", Draft26, TypeQueryResponse, wasmAgt, true, false},
	{wasm + "teep_success.agent.esp256.cose", Draft26, TypeSuccess, wasmAgt, true, false},
	{wasm + "teep_error.agent.esp256.cose", Draft26, TypeError, wasmAgt, true, false},
	// update.tam is in the old numbering (manifest-list 10, no token),
	// which the README does not say: only update0/1 were regenerated.
	{wasm + "update.tam.esp256.cose", Legacy, TypeUpdate, wasmTAM, true, false},
	{wasm + "update0.tam.esp256.cose", Draft26, TypeUpdate, wasmTAM, true, false},
	{wasm + "update1.tam.esp256.cose", Draft26, TypeUpdate, wasmTAM, true, false},
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadKey reads a published public key: PEM, or a JWK as the wasm demo
// writes it (x and y in standard base64).
func loadKey(t testing.TB, name string) *suit.Key {
	t.Helper()
	b := readVector(t, name)
	if filepath.Ext(name) == ".pem" {
		k, err := suit.ParsePublicKeyPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	var jwk struct{ Kty, Crv, X, Y string }
	if err := json.Unmarshal(b, &jwk); err != nil {
		t.Fatal(err)
	}
	x, err1 := base64.StdEncoding.DecodeString(jwk.X)
	y, err2 := base64.StdEncoding.DecodeString(jwk.Y)
	if err := errors.Join(err1, err2); err != nil || jwk.Crv != "P-256" {
		t.Fatalf("%s: %v %s", name, err, jwk.Crv)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	k, err := suit.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// payloadOf is the TEEP message of a vector: the COSE_Sign1 payload for a
// signed one, checked against its key.
func payloadOf(t *testing.T, v vector) []byte {
	t.Helper()
	b := readVector(t, v.file)
	if v.key == "" {
		return b
	}
	if v.key == unknownKey {
		return unverifiedPayload(t, b)
	}
	s, err := suit.OpenSign1(b, []*suit.Key{loadKey(t, v.key)}, suit.AlgES256, suit.AlgESP256)
	if err != nil {
		t.Fatalf("%s does not verify with %s: %v", v.file, v.key, err)
	}
	return s.Payload
}

// unverifiedPayload is the payload of a COSE_Sign1, not verified.
func unverifiedPayload(t testing.TB, data []byte) []byte {
	t.Helper()
	var msg struct {
		_       struct{} `cbor:",toarray"`
		P       []byte
		U       map[int64]cbor.RawMessage
		Payload []byte
		S       []byte
	}
	if len(data) == 0 || data[0] != 0xd2 {
		t.Fatal("not a tagged COSE_Sign1")
	}
	if err := cbor.Unmarshal(data[1:], &msg); err != nil {
		t.Fatal(err)
	}
	return msg.Payload
}

func isCanonical(b []byte) bool {
	var v any
	if err := decMode.Unmarshal(b, &v); err != nil {
		return false
	}
	out, err := encMode.Marshal(v)
	return err == nil && bytes.Equal(out, b)
}

// TestVectorsDecode: every published message decodes, in its numbering
// (told apart by Decode with either preference), as its type; canonical
// ones re-encode byte for byte.
func TestVectorsDecode(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			t.Parallel()
			payload := payloadOf(t, v)
			for _, prefer := range []Numbering{Draft26, Legacy} {
				m, n, err := Decode(payload, prefer)
				if err != nil {
					t.Fatalf("Decode (prefer %s): %v", prefer, err)
				}
				want := v.numbering
				if v.ambiguous {
					want = prefer
				}
				if n != want || m.Type() != v.typ {
					t.Fatalf("Decode (prefer %s) = %s in %s, want %s in %s", prefer, m.Type(), n, v.typ, want)
				}
			}
			m, err := DecodeAs(payload, v.numbering)
			if err != nil {
				t.Fatal(err)
			}
			if got := isCanonical(payload); got != v.canonical {
				t.Fatalf("canonical = %v, the table says %v", got, v.canonical)
			}
			out, err := Encode(m, v.numbering)
			if err != nil {
				t.Fatal(err)
			}
			if v.canonical && !bytes.Equal(out, payload) {
				t.Fatalf("re-encoded\n%x\nwant\n%x", out, payload)
			}
			again, err := DecodeAs(out, v.numbering)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, m) {
				t.Fatalf("re-encoded message differs:\n%+v\n%+v", again, m)
			}
			if out2, _ := Encode(again, v.numbering); !bytes.Equal(out2, out) {
				t.Fatal("encoding is not stable")
			}
		})
	}
}

// TestVectorsOpen: the signed vectors open with their key and with no
// other key of the set.
func TestVectorsOpen(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		if v.key == "" {
			continue
		}
		t.Run(v.file, func(t *testing.T) {
			t.Parallel()
			data := readVector(t, v.file)
			if v.key == unknownKey {
				if _, err := Open(data, allKeys(t), Draft26); !errors.Is(err, ErrSignature) {
					t.Fatalf("Open with the set's keys: %v, want ErrSignature", err)
				}
				return
			}
			s, err := Open(data, []*suit.Key{loadKey(t, v.key)}, Draft26)
			if err != nil {
				t.Fatal(err)
			}
			if s.Numbering != v.numbering || s.Message.Type() != v.typ {
				t.Fatalf("opened %s in %s", s.Message.Type(), s.Numbering)
			}
			var others []*suit.Key
			for _, k := range allKeys(t) {
				if k.ID != s.By.ID {
					others = append(others, k)
				}
			}
			if _, err := Open(data, others, Draft26); !errors.Is(err, ErrSignature) {
				t.Fatalf("opened with the other keys: %v", err)
			}
		})
	}
}

// allKeys are the public keys of the set (libteep's TAM key is also the
// wasm demo's).
func allKeys(t testing.TB) []*suit.Key {
	var keys []*suit.Key
	for _, k := range []string{libTAM, libAgent, wasmTAM, wasmAgt, libteep + "key/tam_ed25519_pub.pem"} {
		keys = append(keys, loadKey(t, k))
	}
	return keys
}

// TestVectorsKID: the wasm demo's kids are the RFC 9679 thumbprints of its
// keys.
func TestVectorsKID(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		if v.key != wasmTAM && v.key != wasmAgt {
			continue
		}
		s, err := Open(readVector(t, v.file), []*suit.Key{loadKey(t, v.key)}, Draft26)
		if err != nil {
			t.Fatal(err)
		}
		if s.KID == nil { // update.tam carries none
			continue
		}
		kid, err := Thumbprint(s.By.Public)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kid, s.KID) {
			t.Errorf("%s: kid %x, thumbprint %x", v.file, s.KID, kid)
		}
	}
}

// TestVectorsRefused: libteep's deliberately bad QueryRequests are refused
// with the reason each is bad, bare and signed; the stale wasm response
// reads as legacy but verifies with no key; the ES384 one is refused for
// its algorithm.
func TestVectorsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want error
	}{
		{libteep + "query_request_err1.cbor", ErrMissing},
		{libteep + "query_request_err2.cbor", ErrCipherSuite},
		{libteep + "query_request_err3.cbor", ErrFieldSize},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			for _, n := range []Numbering{Draft26, Legacy} {
				if _, _, err := Decode(readVector(t, tt.file), n); !errors.Is(err, tt.want) {
					t.Errorf("Decode (prefer %s): %v, want %v", n, err, tt.want)
				}
			}
			if _, err := DecodeAs(readVector(t, tt.file), Legacy); !errors.Is(err, tt.want) {
				t.Errorf("DecodeAs: %v, want %v", err, tt.want)
			}
			// The signed copies verify with no key of the set; their
			// payloads are refused alike.
			signed := readVector(t, tt.file[:len(tt.file)-len(".cbor")]+"_cose.cbor")
			if _, err := DecodeAs(unverifiedPayload(t, signed), Legacy); !errors.Is(err, tt.want) {
				t.Errorf("signed copy: %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("stale wasm query_response", func(t *testing.T) {
		t.Parallel()
		data := readVector(t, wasm+"query_response.agent.esp256.cose")
		keys := []*suit.Key{loadKey(t, wasmAgt), loadKey(t, wasmTAM)}
		if _, err := Open(data, keys, Draft26); !errors.Is(err, ErrSignature) {
			t.Fatalf("Open: %v, want ErrSignature", err)
		}
		m, n, err := Decode(unverifiedPayload(t, data), Draft26)
		if err != nil || n != Legacy || m.Type() != TypeQueryResponse {
			t.Fatalf("stale payload: %v %v %v", m, n, err)
		}
	})
	t.Run("es384", func(t *testing.T) {
		t.Parallel()
		data := readVector(t, libteep+"query_request_es384.cbor")
		if _, err := Open(data, allKeys(t), Legacy); !errors.Is(err, ErrAlgorithm) {
			t.Fatalf("Open: %v, want ErrAlgorithm", err)
		}
	})
}
