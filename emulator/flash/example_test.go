package flash_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/teeup/teeup/emulator/flash"
)

// A bootloader test cuts the power in the middle of writing a slot, reboots
// and looks at what the next boot finds.
func Example() {
	f, err := flash.NewMem(flash.Config{Size: 4 * 4096, SectorSize: 4096, WriteAlign: 16, Record: true})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	slot := flash.Region{Flash: f, Offset: 2 * 4096, Size: 2 * 4096}

	f.CutTorn(3, 1) // tear the third operation: the program after two erases
	update := func() error {
		if err := slot.Erase(); err != nil {
			return err
		}
		return slot.Program(0, make([]byte, 4096))
	}
	err = update()
	fmt.Println("update:", errors.Is(err, flash.ErrPowerCut))
	for _, op := range f.Log() {
		fmt.Printf("%d %v %#x+%d: %v\n", op.Seq, op.Kind, op.Offset, op.Len, op.Outcome)
	}

	f.Reset() // the reboot: the flash is as the cut left it
	sector := make([]byte, 4096)
	if err := slot.Read(4096, sector); err != nil {
		panic(err)
	}
	fmt.Println("second sector erased:", bytes.Equal(sector, bytes.Repeat([]byte{0xFF}, 4096)))
	if err := slot.Read(0, sector); err != nil {
		panic(err)
	}
	fmt.Println("first sector complete:", bytes.Equal(sector, make([]byte, 4096)))
	// Output:
	// update: true
	// 1 erase 0x2000+4096: applied
	// 2 erase 0x3000+4096: applied
	// 3 program 0x2000+4096: torn
	// second sector erased: true
	// first sector complete: false
}
