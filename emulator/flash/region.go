package flash

import "fmt"

// Region is a window [Offset, Offset+Size) of a Flash, such as a bootloader
// slot; offsets given to its methods are relative to Offset and bounded by
// Size. Offset and Size must be multiples of the sector size and inside the
// flash, which every method checks. A Region is as safe for concurrent use
// as its Flash; an operation on it counts on the Flash like any other.
type Region struct {
	Flash        *Flash
	Offset, Size int64
}

// Read reads len(p) bytes at off within the region.
func (r Region) Read(off int64, p []byte) error {
	abs, err := r.translate(off, int64(len(p)))
	if err != nil {
		return fmt.Errorf("flash: region read %#x+%d: %w", off, len(p), err)
	}
	return r.Flash.Read(abs, p)
}

// Program programs data at off within the region, as Flash.Program.
func (r Region) Program(off int64, data []byte) error {
	abs, err := r.translate(off, int64(len(data)))
	if err != nil {
		return fmt.Errorf("flash: region program %#x+%d: %w", off, len(data), err)
	}
	return r.Flash.Program(abs, data)
}

// EraseSector erases the sector at off within the region, as
// Flash.EraseSector.
func (r Region) EraseSector(off int64) error {
	var n int64
	if r.Flash != nil {
		n = r.Flash.cfg.SectorSize
	}
	abs, err := r.translate(off, n)
	if err != nil {
		return fmt.Errorf("flash: region erase %#x: %w", off, err)
	}
	return r.Flash.EraseSector(abs)
}

// Erase erases every sector of the region, first to last, one counted
// operation each. It stops at the first error.
func (r Region) Erase() error {
	if err := r.valid(); err != nil {
		return fmt.Errorf("flash: region erase: %w", err)
	}
	for off := int64(0); off < r.Size; off += r.Flash.cfg.SectorSize {
		if err := r.Flash.EraseSector(r.Offset + off); err != nil {
			return err
		}
	}
	return nil
}

func (r Region) valid() error {
	if r.Flash == nil {
		return fmt.Errorf("%w: region has no flash", ErrOutOfRange)
	}
	cfg := r.Flash.cfg
	if r.Offset%cfg.SectorSize != 0 || r.Size%cfg.SectorSize != 0 {
		return fmt.Errorf("%w: region %#x+%#x is not sector-aligned (sector size %d)",
			ErrAlignment, r.Offset, r.Size, cfg.SectorSize)
	}
	if r.Offset < 0 || r.Size < 0 || r.Offset > cfg.Size || r.Size > cfg.Size-r.Offset {
		return fmt.Errorf("%w: region %#x+%#x is outside the flash (size %#x)",
			ErrOutOfRange, r.Offset, r.Size, cfg.Size)
	}
	return nil
}

func (r Region) translate(off, n int64) (int64, error) {
	if err := r.valid(); err != nil {
		return 0, err
	}
	if off < 0 || n < 0 || off > r.Size || n > r.Size-off {
		return 0, fmt.Errorf("%w: region size is %#x", ErrOutOfRange, r.Size)
	}
	return r.Offset + off, nil
}
