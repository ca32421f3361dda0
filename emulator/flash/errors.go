package flash

import (
	"errors"
	"fmt"
)

// ErrPowerCut is returned by the operation at which an armed cut fires and
// by every read, program and erase after it, until Reset. It is a device
// fault, not a misuse: the caller did nothing wrong.
var ErrPowerCut = errors.New("flash: power cut")

// ErrInvalidOp is the root of the errors that mean the caller broke a rule
// of the flash. An operation that fails with one of them is not counted and
// changes nothing.
var ErrInvalidOp = errors.New("flash: invalid operation")

var (
	// ErrNotErased: a program onto bytes that are not all 0xFF.
	ErrNotErased = fmt.Errorf("%w: program onto unerased bytes", ErrInvalidOp)
	// ErrAlignment: a program whose offset or length is not a multiple of
	// the write alignment, or an erase at an offset that does not start a
	// sector.
	ErrAlignment = fmt.Errorf("%w: misaligned", ErrInvalidOp)
	// ErrOutOfRange: an access that starts before 0 or ends past the end of
	// the flash or the region.
	ErrOutOfRange = fmt.Errorf("%w: out of range", ErrInvalidOp)
)

var (
	// ErrConfig: a Config that describes no possible flash.
	ErrConfig = errors.New("flash: invalid config")
	// ErrWrongSize: Open found an image whose size is not Config.Size.
	ErrWrongSize = errors.New("flash: image size does not match config")
	// ErrClosed: an operation on a Flash after Close.
	ErrClosed = errors.New("flash: closed")
	// ErrNotMapped: Mapped on a flash opened with OpenDirect.
	ErrNotMapped = errors.New("flash: not memory-mapped")
)
