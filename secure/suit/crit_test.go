package suit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// critMACKey is the HMAC key of the hand-built vectors: 32 bytes 'a', as
// the firmware-encryption draft's MAC examples use.
var critMACKey = bytes.Repeat([]byte{'a'}, 32)

// macBlock builds a tagged COSE_Mac0 by hand from an encoded protected and
// unprotected header: [protected, unprotected, null, tag], with the tag an
// honest HMAC-SHA256 over the MAC_structure of RFC 9052 §6.3. A block
// this returns always verifies under critMACKey; only its headers decide.
func macBlock(t testing.TB, protected, unprotected string, payload []byte) []byte {
	t.Helper()
	p := mustHexT(t, protected)
	toMAC := []byte{0x84, 0x64, 'M', 'A', 'C', '0'} // ["MAC0",
	toMAC = append(append(toMAC, bstrHead(len(p))...), p...)
	toMAC = append(toMAC, 0x40) // external_aad: h''
	toMAC = append(append(toMAC, bstrHead(len(payload))...), payload...)
	m := hmac.New(sha256.New, critMACKey)
	m.Write(toMAC)
	out := []byte{0xd1, 0x84} // 17([
	out = append(append(out, bstrHead(len(p))...), p...)
	out = append(out, mustHexT(t, unprotected)...)
	out = append(out, 0xf6) // payload: null (detached)
	return append(append(out, 0x58, 0x20), m.Sum(nil)...)
}

// Protected headers built by hand, byte by byte.
const (
	// {1: 5}: alg HMAC 256/256.
	hdrAlg = "a1" + "0105"
	// {1: 5, 2: [-70000], -70000: true}: crit names a parameter that no
	// registry defines, so no processor understands it.
	hdrCritUnknown = "a3" + "0105" + "02" + "81" + "3a0001116f" + "3a0001116f" + "f5"
	// {1: 5, 2: [1]}: crit names alg, which every processor understands.
	hdrCritAlg = "a2" + "0105" + "02" + "81" + "01"
	// {1: 5, 2: [4], 4: h'6b'}: crit names kid, a hint verification honours.
	hdrCritKID = "a3" + "0105" + "02" + "81" + "04" + "04" + "41" + "6b"
	// {1: 5, 2: [3], 3: 0}: content type, which this processor ignores.
	hdrCritContentType = "a3" + "0105" + "02" + "81" + "03" + "03" + "00"
	// {1: 5, 2: []}: crit must not be empty.
	hdrCritEmpty = "a2" + "0105" + "02" + "80"
	// {1: 5, 2: [-70000]}: crit names a label the header does not hold.
	hdrCritAbsent = "a2" + "0105" + "02" + "81" + "3a0001116f"
	// {1: 5, 2: [1, 1]}: a label twice.
	hdrCritTwice = "a2" + "0105" + "02" + "82" + "01" + "01"
	// {1: 5, 2: 1}: crit is not an array.
	hdrCritNotArray = "a2" + "0105" + "02" + "01"
	// {1: 5, 2: ["x"]}: a text label, which SUIT never defines.
	hdrCritText = "a2" + "0105" + "02" + "81" + "6178"
	// {1: 5, 2: [2]}: crit names itself.
	hdrCritSelf = "a2" + "0105" + "02" + "81" + "02"
	// {1: 5} followed by a stray byte inside the protected bstr.
	hdrTrailing = "a1" + "0105" + "00"

	// Unprotected headers.
	unprotEmpty = "a0"
	// {2: [-70000]}: crit outside the protected bucket.
	unprotCrit = "a1" + "02" + "81" + "3a0001116f"
)

// TestCOSECrit: a COSE_Mac0 that verifies is still refused when its crit
// header names a parameter this processor does not act on (RFC 9052
// §3.1), or when crit itself is not as the RFC has it. On 9d2e92e every
// one of these blocks authenticated.
func TestCOSECrit(t *testing.T) {
	payload := []byte("the detached payload")
	tests := []struct {
		name                   string
		protected, unprotected string
		want                   error // nil: the block verifies
	}{
		{"no crit", hdrAlg, unprotEmpty, nil},
		{"crit names alg", hdrCritAlg, unprotEmpty, nil},
		{"crit names kid", hdrCritKID, unprotEmpty, nil},
		{"crit names an unknown parameter", hdrCritUnknown, unprotEmpty, ErrCriticalHeader},
		{"crit names content type", hdrCritContentType, unprotEmpty, ErrCriticalHeader},
		{"crit names a text label", hdrCritText, unprotEmpty, ErrCriticalHeader},
		{"crit empty", hdrCritEmpty, unprotEmpty, ErrMalformed},
		{"crit names an absent label", hdrCritAbsent, unprotEmpty, ErrMalformed},
		{"crit names a label twice", hdrCritTwice, unprotEmpty, ErrMalformed},
		{"crit names itself", hdrCritSelf, unprotEmpty, ErrMalformed},
		{"crit not an array", hdrCritNotArray, unprotEmpty, ErrMalformed},
		{"crit unprotected", hdrAlg, unprotCrit, ErrMalformed},
		{"protected header with a trailing byte", hdrTrailing, unprotEmpty, ErrMalformed},
	}
	key, err := NewMACKey(critMACKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := macBlock(t, tc.protected, tc.unprotected, payload)
			b, err := parseCOSEBlock(raw)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("parse: %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if !errors.Is(err, ErrRejected) {
					t.Errorf("%v is not ErrRejected", err)
				}
				return
			}
			if !b.verify(key, payload) {
				t.Error("the hand-built block does not verify")
			}
		})
	}
}

// critEnvelope is example0 of draft-37 Appendix B authenticated by a
// hand-built COSE_Mac0 with the given protected header instead of its
// signature: the manifest and its digest are the published ones.
func critEnvelope(t testing.TB, protected string) []byte {
	t.Helper()
	env, err := ParseEnvelope(readHexVector(t, "suit-manifest/example0.hex"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := decodeAuthentication(env.AuthWrapper)
	if err != nil {
		t.Fatal(err)
	}
	auth.Blocks = [][]byte{macBlock(t, protected, unprotEmpty, auth.DigestBytes)}
	env.AuthWrapper = auth.Encode()
	return env.Encode()
}

// TestCOSECritEnvelope plays the attack end to end: an envelope whose only
// authentication block verifies but marks an unknown parameter critical
// does not authenticate, does not describe, and a report signed so is
// not believed. The same envelope with crit naming alg authenticates. The
// refused envelope is pinned in testdata/crit/ (go test -update rewrites).
func TestCOSECritEnvelope(t *testing.T) {
	key, err := NewMACKey(critMACKey)
	if err != nil {
		t.Fatal(err)
	}
	bad := critEnvelope(t, hdrCritUnknown)
	golden := filepath.Join("testdata", "crit", "example0-mac0-crit-unknown.hex")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(hex.EncodeToString(bad)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readHexVector(t, filepath.Join("crit", filepath.Base(golden))); !bytes.Equal(bad, want) {
		t.Fatalf("the hand-built envelope differs from %s (go test -update)\n got %x\nwant %x", golden, bad, want)
	}
	env, err := ParseEnvelope(bad)
	if err != nil {
		t.Fatal(err) // structure is fine: the refusal is authentication's
	}
	if _, err := env.Authenticate([]*Key{key}); !errors.Is(err, ErrCriticalHeader) {
		t.Errorf("Authenticate: %v, want ErrCriticalHeader", err)
	}
	if _, err := env.AuthBlocks(); !errors.Is(err, ErrCriticalHeader) {
		t.Errorf("AuthBlocks: %v, want ErrCriticalHeader", err)
	}
	good, err := ParseEnvelope(critEnvelope(t, hdrCritAlg))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := good.Authenticate([]*Key{key}); err != nil || !v.SignedBy(key.ID) {
		t.Errorf("crit naming alg: %v", err)
	}

	// A signed report: the same header on a report's COSE_Mac0.
	report := (&Report{ManifestDigest: Digest{Alg: AlgSHA256, Bytes: make([]byte, 32)}}).Encode()
	signed := macBlock(t, hdrCritUnknown, unprotEmpty, report)
	// Attach the payload: a report's COSE_Mac0 carries it.
	signed = bytes.Replace(signed, []byte{0xf6, 0x58, 0x20}, append(bstrEncoding(report), 0x58, 0x20), 1)
	if _, _, err := VerifyReport(signed, []*Key{key}); !errors.Is(err, ErrCriticalHeader) {
		t.Errorf("VerifyReport: %v, want ErrCriticalHeader", err)
	}
	honest := bytes.Replace(macBlock(t, hdrCritAlg, unprotEmpty, report), []byte{0xf6, 0x58, 0x20}, append(bstrEncoding(report), 0x58, 0x20), 1)
	if _, id, err := VerifyReport(honest, []*Key{key}); err != nil || id != key.ID {
		t.Errorf("VerifyReport with crit naming alg: %q, %v", id, err)
	}
}

// TestEncryptionInfoCrit: the COSE_Encrypt of an encryption info and each
// of its recipients apply crit as authentication blocks do. The vector's
// protected header {1: 1} (A128GCM) is replaced by one with crit.
func TestEncryptionInfoCrit(t *testing.T) {
	info, _ := readEncryptionVector(t, "aes-kw-aes-gcm")
	orig := []byte{0x43, 0xa1, 0x01, 0x01} // << {1: 1} >>
	if !bytes.Contains(info, orig) {
		t.Fatalf("vector lacks %x", orig)
	}
	tests := []struct {
		name, protected string // encoded, bstr head included
		want            error
	}{
		{"vector", "43a10101", nil},
		{"crit names alg", "46" + "a2" + "0101" + "02" + "81" + "01", nil},
		{"crit names an unknown parameter", "50" + "a3" + "0101" + "02" + "81" + "3a0001116f" + "3a0001116f" + "f5", ErrCriticalHeader},
		{"crit empty", "45" + "a2" + "0101" + "02" + "80", ErrMalformed},
		{"crit names an absent label", "49" + "a2" + "0101" + "02" + "81" + "3a0001116f", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mut := bytes.Replace(info, orig, mustHexT(t, tc.protected), 1)
			_, err := ParseEncryptionInfo(mut)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
	// A recipient's protected header: crit naming the unknown parameter.
	// The vector's A128KW recipient has an empty one (h'' = 40), and the
	// recipient array follows the ciphertext's null: f6 81 83 40.
	recip := []byte{0xf6, 0x81, 0x83, 0x40}
	if !bytes.Contains(info, recip) {
		t.Fatalf("vector lacks %x", recip)
	}
	// {2: [-70000], -70000: true}, 14 bytes: crit naming the unknown parameter.
	critHdr := mustHexT(t, "4e"+"a2"+"02"+"81"+"3a0001116f"+"3a0001116f"+"f5")
	mut := bytes.Replace(info, recip, append([]byte{0xf6, 0x81, 0x83}, critHdr...), 1)
	if _, err := ParseEncryptionInfo(mut); !errors.Is(err, ErrCriticalHeader) {
		t.Errorf("recipient crit: %v, want ErrCriticalHeader", err)
	}
}
