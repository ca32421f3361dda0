package boot_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
)

// BenchmarkBootVerify measures a boot that verifies a 16 MiB secure image
// and a 16 MiB normal image (read from flash, hashed by the SUIT
// processor's image-match, signatures and counters checked, measured into
// the TPM), next to SHA-256 over the same 32 MiB in memory: the floor any
// verifying bootloader pays.
func BenchmarkBootVerify(b *testing.B) {
	const size = 16 << 20
	layout := boot.Layout{SectorSize: 64 << 10, WriteAlign: 16, SlotSectors: size/(64<<10) + 1}
	images := [][]byte{boottest.Image(boot.Secure, 1, size), boottest.Image(boot.Normal, 1, size)}

	b.Run("boot", func(b *testing.B) {
		r := boottest.New(b, layout, false)
		s, d := r.Signers, r.Boot
		var set []boot.Staged
		for i, c := range boot.Components {
			st, err := s.Release(c, 1, images[i])
			if err != nil {
				b.Fatal(err)
			}
			set = append(set, st)
		}
		if err := d.Provision(context.Background(), set); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(2 * size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Boot(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(2 * size)
		b.ReportAllocs()
		for b.Loop() {
			for _, img := range images {
				sha256.Sum256(img)
			}
		}
	})
}
