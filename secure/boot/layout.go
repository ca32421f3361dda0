package boot

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
)

// Component is one of the two images the bootloader manages.
type Component int

// The components: the secure image and the normal image.
const (
	Secure Component = iota
	Normal
	numComponents
)

// Components lists the components in the order they are swapped and
// measured.
var Components = []Component{Secure, Normal}

// MarshalText names the component in JSON.
func (c Component) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a component name.
func (c *Component) UnmarshalText(b []byte) error {
	for _, x := range Components {
		if x.String() == string(b) {
			*c = x
			return nil
		}
	}
	return fmt.Errorf("boot: unknown component %q", b)
}

func (c Component) String() string {
	switch c {
	case Secure:
		return "secure"
	case Normal:
		return "normal"
	}
	return fmt.Sprintf("component(%d)", int(c))
}

// ID is the SUIT component identifier of the image.
func (c Component) ID() suit.ComponentID { return suit.ComponentID{[]byte(c.String())} }

// ComponentByID finds the component a SUIT component ID names.
func ComponentByID(id suit.ComponentID) (Component, bool) {
	for _, c := range Components {
		if c.ID().Equal(id) {
			return c, true
		}
	}
	return 0, false
}

// Layout is the partition table:
//
//	sector 0                 bootloader (reserved)
//	secure primary, secure secondary, normal primary, normal secondary:
//	                         SlotSectors each; the first sector of a slot
//	                         holds its header and SUIT envelope
//	scratch                  1 sector, for the swap
//	journal                  2 sectors, used in turn
//	secure storage           2 banks of StoreSectors each (secure/storage):
//	                         the device keys and the TA store; the
//	                         bootloader never touches it
type Layout struct {
	SectorSize   int `json:"sector_size"`
	WriteAlign   int `json:"write_align"`
	SlotSectors  int `json:"slot_sectors"`
	StoreSectors int `json:"store_sectors,omitempty"`
}

// DefaultLayout is what teeup device init makes: 64 KiB slots and two
// 128 KiB banks of secure storage.
var DefaultLayout = Layout{SectorSize: 4096, WriteAlign: 16, SlotSectors: 16, StoreSectors: 32}

// Validate checks that the layout can hold a header, an image and the
// journal records.
func (l Layout) Validate() error {
	switch {
	case l.SectorSize < 512 || l.SectorSize%l.WriteAlign != 0:
		return errors.New("boot: sector size must be at least 512 and a multiple of the write alignment")
	case l.WriteAlign < 1 || l.WriteAlign > recordSize || recordSize%l.WriteAlign != 0:
		return fmt.Errorf("boot: write alignment must divide %d", recordSize)
	case l.SlotSectors < 2:
		return errors.New("boot: a slot needs a header sector and at least one image sector")
	case l.StoreSectors < 0:
		return errors.New("boot: a negative secure storage")
	}
	return nil
}

// Sectors is the number of sectors the layout uses.
func (l Layout) Sectors() int { return 1 + 4*l.SlotSectors + 1 + 2 + 2*l.StoreSectors }

// Size is the flash size the layout needs.
func (l Layout) Size() int64 { return int64(l.Sectors()) * int64(l.SectorSize) }

// MaxImage is the largest image a slot holds.
func (l Layout) MaxImage() int { return (l.SlotSectors - 1) * l.SectorSize }

func (l Layout) sectorOff(i int) int64 { return int64(i) * int64(l.SectorSize) }

// slotOff is the offset of a component's primary (secondary=false) or
// secondary slot.
func (l Layout) slotOff(c Component, secondary bool) int64 {
	i := 1 + 2*int(c)*l.SlotSectors
	if secondary {
		i += l.SlotSectors
	}
	return l.sectorOff(i)
}

func (l Layout) scratchOff() int64 { return l.sectorOff(1 + 4*l.SlotSectors) }

func (l Layout) journalOff(n int) int64 { return l.sectorOff(2 + 4*l.SlotSectors + n) }

// StoreOff is the offset of the secure storage's first bank.
func (l Layout) StoreOff() int64 { return l.sectorOff(4 + 4*l.SlotSectors) }
