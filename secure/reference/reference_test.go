package reference_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu/fwutest"
	"github.com/teeup/teeup/secure/reference"
	"github.com/teeup/teeup/secure/suit"
)

// TestReferenceRefused: an envelope that does not verify with the given
// keys gives no reference values, nor one that installs no image or TA.
func TestReferenceRefused(t *testing.T) {
	t.Parallel()
	s := fwutest.NewSigners(t)
	env := fwutest.Envelope(t, boot.Normal, 3, []byte("normal image"), s.Author)
	other := fwutest.NewSigners(t).Policy(t).Keys()
	if _, _, err := reference.Reference(env, other); !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("another author's keys: %v, want a rejection", err)
	}
	refs, _, err := reference.Reference(env, s.Policy(t).Keys())
	if err != nil || len(refs) != 1 || refs[0].Kind != comid.KindImage || refs[0].SequenceNumber != 3 {
		t.Fatalf("references %+v, %v", refs, err)
	}
	if d := sha256.Sum256([]byte("normal image")); !bytes.Equal(refs[0].Digest, d[:]) {
		t.Fatal("the reference's digest is not the image's")
	}
}
