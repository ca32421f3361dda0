package suit

import (
	"context"
	"errors"
	"testing"
)

// TestEncryptionInfoNeedsADecryptingPlatform: a platform that does not
// implement DecryptingPlatform never receives a write, copy or fetch that
// should decrypt, so that it cannot store ciphertext as the image.
func TestEncryptionInfoNeedsADecryptingPlatform(t *testing.T) {
	info, payload := readEncryptionVector(t, "aes-kw-aes-gcm")
	tests := []struct {
		name    string
		install Sequence
	}{
		{"write", Sequence{index(0), set(Parameters{ParamContent: payload, ParamEncryptionInfo: info}), dir(DirWrite)}},
		{"fetch", Sequence{index(0), set(Parameters{ParamURI: "#inline", ParamEncryptionInfo: info}), dir(DirFetch)}},
		{"copy", Sequence{index(1), set(Parameters{ParamContent: payload}), dir(DirWrite),
			index(0), set(Parameters{ParamSourceComponent: uint64(1), ParamEncryptionInfo: info}), dir(DirCopy)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := verifiedFor(t, 1, 2, nil, tc.install)
			mem := newMem()
			_, err := Process(context.Background(), v, mem, Options{Sequences: []int64{KeyInstall}})
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Process = %v, want ErrUnsupported", err)
			}
			if _, ok := mem.images["[00]"]; ok {
				t.Errorf("component [00] was written: %v", mem.events)
			}
		})
	}
}

// TestEncryptionInfoCheckedAtDecode: an encryption info the profile does
// not allow is refused with the manifest, before any command runs.
func TestEncryptionInfoCheckedAtDecode(t *testing.T) {
	info, _ := readEncryptionVector(t, "aes-kw-aes-gcm")
	bad := append([]byte(nil), info...)
	bad[0] = 0xd8
	bad[1] = 0x61 // tag 97: COSE_Mac, not COSE_Encrypt
	seq := Sequence{set(Parameters{ParamEncryptionInfo: bad})}
	if _, err := decodeSequence(seq.Encode(), 0, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("decodeSequence = %v, want ErrMalformed", err)
	}
}
