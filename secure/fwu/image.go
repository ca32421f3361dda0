package fwu

import (
	"context"
	"crypto/subtle"
	"fmt"
	"hash"
	"io"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
)

// destination is where the bytes of a payload go as they arrive: a
// firmware image streaming into its staging slot, or a TA payload into
// secure memory.
type destination interface {
	io.Writer
	// lend returns a buffer for the next n bytes, for the caller to fill
	// and Write without a copy, or nil.
	lend(n int) []byte
	// finish completes the payload once all its bytes are written; on
	// failure the outcome says why, for the report.
	finish(ctx context.Context, index uint32) (*Outcome, error)
	// release stops whatever still works on the payload.
	release()
}

// image is a firmware image streaming into the staging slot of its
// component: through dec when it is encrypted, into pl, which hashes the
// bytes into h and programs them into w.
type image struct {
	comp     boot.Component
	digest   suit.Digest
	envelope []byte // as the slot keeps it: without integrated payloads
	v        *suit.Verified
	planned  *suit.Result // the plan's run, whose image-match finish completes
	w        *boot.SlotWriter
	h        hash.Hash
	sink     io.Writer
	dec      *suit.DecryptWriter
	pl       *pipeline
	sha256   []byte // the SHA-256 of the image written, once finished
}

func (im *image) Write(p []byte) (int, error) { return im.sink.Write(p) }

func (im *image) lend(n int) []byte {
	if im.dec != nil {
		return im.dec.Lend(n)
	}
	return im.pl.Lend(n)
}

// release stops the pipeline; what it failed to program no longer
// matters, since the image is abandoned.
func (im *image) release() { _ = im.pl.Close() }

func (im *image) outcome(err error) *Outcome {
	return &Outcome{Envelope: im.envelope, Verified: im.v, Result: im.planned, Err: err}
}

// finish closes the image: its digest must be the manifest's, and then
// the slot's header makes it an image the bootloader may commit.
func (im *image) finish(_ context.Context, index uint32) (*Outcome, error) {
	if im.dec != nil {
		// For A128GCM the last plaintext and the tag's verdict come now.
		if err := im.dec.Close(); err != nil {
			err = fmt.Errorf("payload %d: %w", index, err)
			return im.outcome(err), err
		}
	}
	if err := im.pl.Close(); err != nil {
		err = fmt.Errorf("payload %d: %w", index, err)
		return im.outcome(err), err
	}
	sum := im.h.Sum(nil)
	if subtle.ConstantTimeCompare(sum, im.digest.Bytes) != 1 {
		o := imageMatchFailed(im, fmt.Errorf("payload %d: %w", index, suit.ErrImageMismatch))
		return o, o.Err
	}
	if im.digest.Alg == suit.AlgSHA256 {
		im.sha256 = sum
	}
	if err := im.w.Close(im.envelope); err != nil {
		return im.outcome(err), err
	}
	return nil, nil
}
