package flash_test

import (
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

// BenchmarkProgram measures erase-then-program of 4 KiB sectors, the
// pattern of an image copy, in memory and written through to a file.
func BenchmarkProgram(b *testing.B) {
	cfg := flash.Config{Size: 1 << 20, SectorSize: 4096, WriteAlign: 16}
	for _, bc := range []struct {
		name string
		open func(b *testing.B) (*flash.Flash, error)
	}{
		{"mem", func(b *testing.B) (*flash.Flash, error) { return flash.NewMem(cfg) }},
		{"file", func(b *testing.B) (*flash.Flash, error) {
			return flash.Open(filepath.Join(b.TempDir(), "flash.img"), cfg)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := bc.open(b)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			data := pattern(4096, 1)
			sectors := cfg.Size / cfg.SectorSize
			b.SetBytes(4096)
			var i int64
			for b.Loop() {
				off := (i % sectors) * cfg.SectorSize
				i++
				if err := f.EraseSector(off); err != nil {
					b.Fatal(err)
				}
				if err := f.Program(off, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
