package boot

import "fmt"

// journalNeed is how many journal records a swap and a revert of a whole
// slot need: New refuses a layout whose journal sector cannot hold them.
func (l Layout) journalNeed() int { return 2*2*3*l.SlotSectors + 16 }

// ForImage is DefaultLayout resized so that each slot holds an image of
// size bytes: the smallest sectors (from DefaultLayout's 4 KiB, doubling)
// whose journal sector can record a swap and a revert of a slot of that
// many sectors, as real NOR flash with larger erase blocks would.
func ForImage(size int) (Layout, error) {
	l := DefaultLayout
	for ss := l.SectorSize; ss <= maxSectorSize; ss *= 2 {
		l.SectorSize = ss
		l.SlotSectors = max((size+ss-1)/ss+1, DefaultLayout.SlotSectors*DefaultLayout.SectorSize/ss, 2)
		if l.journalNeed()*recordSize <= ss {
			return l, l.Validate()
		}
	}
	return Layout{}, fmt.Errorf("boot: no layout of sectors up to %d bytes holds an image of %d bytes", maxSectorSize, size)
}
