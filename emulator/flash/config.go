package flash

import "fmt"

// Config is the geometry of a flash. It is not stored in the image file:
// reopening an image with another geometry of the same size is allowed.
type Config struct {
	// Size is the size of the array in bytes: a multiple of SectorSize, at
	// most MaxSize.
	Size int64
	// SectorSize is the erase unit in bytes: a multiple of WriteAlign.
	SectorSize int64
	// WriteAlign is the program unit in bytes (8 or 16 on typical parts):
	// the offset and the length of every program are multiples of it, and
	// a torn program is torn at one of its boundaries.
	WriteAlign int64
	// Record keeps a log of every counted operation (Flash.Log). Off by
	// default so that long runs do not grow without bound.
	Record bool
}

func (c Config) validate() error { return c.validateUpTo(MaxSize) }

func (c Config) validateUpTo(maxSize int64) error {
	switch {
	case c.WriteAlign <= 0:
		return fmt.Errorf("%w: write alignment %d", ErrConfig, c.WriteAlign)
	case c.SectorSize <= 0 || c.SectorSize%c.WriteAlign != 0:
		return fmt.Errorf("%w: sector size %d is not a positive multiple of the write alignment %d",
			ErrConfig, c.SectorSize, c.WriteAlign)
	case c.Size <= 0 || c.Size%c.SectorSize != 0:
		return fmt.Errorf("%w: size %d is not a positive multiple of the sector size %d",
			ErrConfig, c.Size, c.SectorSize)
	case c.Size > maxSize:
		return fmt.Errorf("%w: size %d exceeds %d", ErrConfig, c.Size, maxSize)
	}
	return nil
}
