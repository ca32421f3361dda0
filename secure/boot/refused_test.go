package boot_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// TestRefusedStageWritesNothing: a set that Stage refuses leaves every
// byte of the flash as it was (issue 11 item 9: a refused stage used to
// write the secondary slot first), and the next honest stage works.
func TestRefusedStageWritesNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		set  func(r *rig) []boot.Staged
		want error
	}{
		{"lower sequence number", func(r *rig) []boot.Staged {
			return []boot.Staged{r.release(boot.Normal, 1)}
		}, suit.ErrRollback},
		{"signed by a key not authorized for the component", func(r *rig) []boot.Staged {
			img := boottest.Image(boot.Normal, 5, 900)
			env, err := boottest.Envelope(boot.Normal, 5, img, r.signers.Operator)
			if err != nil {
				r.t.Fatal(err)
			}
			return []boot.Staged{{Component: boot.Normal, Envelope: env, Image: img}}
		}, keys.ErrUnauthorized},
		{"image that does not match its manifest", func(r *rig) []boot.Staged {
			s := r.release(boot.Normal, 5)
			s.Image = append(bytes.Clone(s.Image[:len(s.Image)-1]), s.Image[len(s.Image)-1]^1)
			return []boot.Staged{s}
		}, suit.ErrImageMismatch},
		{"envelope about the other component", func(r *rig) []boot.Staged {
			s := r.release(boot.Normal, 5)
			s.Component = boot.Secure
			return []boot.Staged{s}
		}, suit.ErrRejected},
		{"a good image, then a refused one", func(r *rig) []boot.Staged {
			bad := r.release(boot.Normal, 5)
			bad.Image = bad.Image[:len(bad.Image)-1]
			return []boot.Staged{r.release(boot.Secure, 5), bad}
		}, suit.ErrRejected},
		{"image larger than the slot", func(r *rig) []boot.Staged {
			img := boottest.Image(boot.Normal, 5, testLayout.MaxImage()+1)
			env, err := boottest.Envelope(boot.Normal, 5, img, r.signers.Author)
			if err != nil {
				r.t.Fatal(err)
			}
			return []boot.Staged{{Component: boot.Normal, Envelope: env, Image: img}}
		}, nil},
		{"while a set is staged", func(r *rig) []boot.Staged {
			if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 3)}); err != nil {
				r.t.Fatal(err)
			}
			return []boot.Staged{r.release(boot.Normal, 4)}
		}, boot.ErrBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if _, err := r.reboot(); err != nil {
				t.Fatal(err)
			}
			r.acceptUpdate(2)
			set := tc.set(r)
			before := r.snapshot()
			err := r.boot.Stage(ctx, set)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("stage: %v, want %v", err, tc.want)
			}
			if after := r.snapshot(); !bytes.Equal(before, after) {
				t.Fatalf("the refused stage changed the flash at offset %d", firstDiff(before, after))
			}
			if errors.Is(err, boot.ErrBusy) {
				return
			}
			if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 6)}); err != nil {
				t.Fatalf("honest stage after the refusal: %v", err)
			}
			if res, err := r.reboot(); err != nil || seqs(res) != [2]uint64{2, 6} || !res.Trial {
				t.Fatalf("boot of the honest stage: %v %+v", err, res)
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
