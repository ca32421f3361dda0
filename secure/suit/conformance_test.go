package suit

import (
	"bytes"
	"errors"
	"testing"
)

// manifestVectors are the 13 files of draft-ietf-suit-manifest-37 Appendix B.
var manifestVectors = []struct {
	file   string
	signed bool
	seq    uint64
}{
	{"example0-unsigned.hex", false, 0},
	{"example0.hex", true, 0},
	{"example1-unsigned.hex", false, 1},
	{"example1.hex", true, 1},
	{"example2-severed-unsigned.hex", false, 2},
	{"example2-severed.hex", true, 2},
	{"example2.hex", true, 2},
	{"example3-unsigned.hex", false, 3},
	{"example3.hex", true, 3},
	{"example4-unsigned.hex", false, 4},
	{"example4.hex", true, 4},
	{"example5-unsigned.hex", false, 5},
	{"example5.hex", true, 5},
}

func TestManifestVectorsConformance(t *testing.T) {
	key := readPublicKey(t, "suit-manifest/public-key.pem")
	for _, v := range manifestVectors {
		t.Run(v.file, func(t *testing.T) {
			data := readHexVector(t, "suit-manifest/"+v.file)
			env, err := ParseEnvelope(data)
			if err != nil {
				t.Fatalf("ParseEnvelope: %v", err)
			}
			if !env.Tagged {
				t.Error("envelope not tagged 107")
			}
			if _, err := env.CheckDigest(); err != nil {
				t.Fatalf("CheckDigest: %v", err)
			}
			if got := env.Encode(); !bytes.Equal(got, data) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", got, data)
			}
			// The same envelope without tag 107 parses and keeps its digest.
			untagged, err := ParseEnvelope(data[2:])
			if err != nil || untagged.Tagged {
				t.Fatalf("untagged: %v (tagged %v)", err, untagged != nil && untagged.Tagged)
			}
			if _, err := untagged.CheckDigest(); err != nil || !bytes.Equal(untagged.Encode(), data[2:]) {
				t.Errorf("untagged: digest %v, round trip equal %v", err, bytes.Equal(untagged.Encode(), data[2:]))
			}
			vm, err := env.Authenticate([]*Key{key})
			if !v.signed {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("unsigned: Authenticate = %v, want ErrUnauthenticated", err)
				}
				m, err := env.ManifestUnverified()
				if err != nil {
					t.Fatal(err)
				}
				if m.SequenceNumber != v.seq {
					t.Errorf("sequence number %d, want %d", m.SequenceNumber, v.seq)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if len(vm.Signers) != 1 || vm.Signers[0] != key.ID {
				t.Errorf("signers %v, want [%s]", vm.Signers, key.ID)
			}
			if vm.Manifest.SequenceNumber != v.seq {
				t.Errorf("sequence number %d, want %d", vm.Manifest.SequenceNumber, v.seq)
			}
			for key, mem := range vm.Manifest.Members {
				if key != KeyText && mem.Present() {
					if got := mem.Commands.Encode(); !bytes.Equal(got, mem.Bytes) {
						t.Errorf("%s re-encodes differently:\n got %x\nwant %x", SequenceName(key), got, mem.Bytes)
					}
				}
			}
		})
	}
}
