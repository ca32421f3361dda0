package suit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// TestAESKeyWrapRFC3394 unwraps the test vectors of RFC 3394 §4.1-4.6
// (package author wraps them).
func TestAESKeyWrapRFC3394(t *testing.T) {
	const kek = "000102030405060708090A0B0C0D0E0F1011121314151617181920212223242526272829"
	tests := []struct {
		name, kek, key, wrapped string
	}{
		{"4.1 128-bit KEK, 128-bit key", kek[:32], "00112233445566778899AABBCCDDEEFF",
			"1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"4.2 192-bit KEK, 128-bit key", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
			"96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
		{"4.3 256-bit KEK, 128-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF",
			"64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{"4.4 192-bit KEK, 192-bit key", "000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF0001020304050607",
			"031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
		{"4.5 256-bit KEK, 192-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF0001020304050607",
			"A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
		{"4.6 256-bit KEK, 256-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kek, key, wrapped := mustHexT(t, tc.kek), mustHexT(t, tc.key), mustHexT(t, tc.wrapped)
			back, err := aesKeyUnwrap(kek, wrapped)
			if err != nil || !bytes.Equal(back, key) {
				t.Fatalf("unwrap = %X, %v; want %X", back, err, key)
			}
			for i := range wrapped {
				bad := bytes.Clone(wrapped)
				bad[i] ^= 1
				if _, err := aesKeyUnwrap(kek, bad); !errors.Is(err, errKeyWrap) {
					t.Fatalf("byte %d flipped: unwrap error %v, want integrity failure", i, err)
				}
			}
		})
	}
}

func TestAESKeyWrapRefusesBadLengths(t *testing.T) {
	kek := make([]byte, 16)
	for _, n := range []int{0, 8, 16, 25, 31} {
		if _, err := aesKeyUnwrap(kek, make([]byte, n)); err == nil {
			t.Errorf("unwrap of %d bytes accepted", n)
		}
	}
	if _, err := aesKeyUnwrap(make([]byte, 7), make([]byte, 24)); err == nil {
		t.Error("KEK of 7 bytes accepted")
	}
}

func mustHexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
