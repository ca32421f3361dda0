//go:build cgo

package tpm_test

import (
	"crypto/sha256"
	"fmt"
	"log"
	"os"

	"github.com/teeup/teeup/emulator/tpm"
)

// A bootloader's view: a rollback counter and a measurement survive a power
// cycle and a restart of the emulator as the TPM would, counter kept, PCR
// cleared.
func Example() {
	dir, err := os.MkdirTemp("", "tpm-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	const secureImageCounter = 0x01500001
	t, err := tpm.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := t.DefineCounter(secureImageCounter); err != nil {
		log.Fatal(err)
	}
	if err := t.AdvanceCounterTo(secureImageCounter, 3); err != nil {
		log.Fatal(err)
	}
	image := sha256.Sum256([]byte("secure image v3"))
	if err := t.Extend(0, image[:]); err != nil {
		log.Fatal(err)
	}
	if err := t.Close(); err != nil {
		log.Fatal(err)
	}

	t, err = tpm.Open(dir) // the emulator process restarted
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	v, _ := t.Counter(secureImageCounter)
	pcr, _ := t.ReadPCR(0)
	fmt.Println("counter:", v)
	fmt.Printf("PCR 0: %x\n", pcr[:4])
	fmt.Println("rollback to 2:", t.AdvanceCounterTo(secureImageCounter, 2))
	// Output:
	// counter: 3
	// PCR 0: 00000000
	// rollback to 2: advance counter 0x01500001 from 3 to 2: tpm: counter would go backward
}
