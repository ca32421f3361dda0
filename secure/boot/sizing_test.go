package boot

import "testing"

// TestForImage: the layout for an image holds it, and New accepts it
// (its journal can record a swap and a revert of a whole slot).
func TestForImage(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 60 << 10, 1 << 20, 32 << 20, 64<<20 + 1, 512 << 20} {
		l, err := ForImage(size)
		if err != nil {
			t.Fatalf("ForImage(%d): %v", size, err)
		}
		if l.MaxImage() < size || l.journalNeed()*recordSize > l.SectorSize {
			t.Errorf("ForImage(%d) = %+v: holds %d, journal needs %d of %d", size, l, l.MaxImage(), l.journalNeed()*recordSize, l.SectorSize)
		}
		if l.MaxImage() < DefaultLayout.MaxImage() {
			t.Errorf("ForImage(%d) = %+v: smaller than the default", size, l)
		}
	}
	if _, err := ForImage(1 << 40); err == nil {
		t.Error("a 1 TiB image fits")
	}
}
