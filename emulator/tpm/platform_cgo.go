//go:build cgo

package tpm

// The reference TPM's platform layer (Samples/Google in go-tpm-tools'
// vendored ms-tpm-20-ref) is compiled into the simulator's internal package,
// which Go does not let us import. Its functions are ordinary C symbols of
// the same binary, so they are declared here and resolved by the external
// linker, which cgo packages outside the standard library always use.
// The signatures are those of Samples/Google/Platform_fp.h.

/*
#include <stdbool.h>

void _plat__NvMemoryRead(unsigned int start, unsigned int size, void *data);
bool _plat__NvMemoryWrite(unsigned int start, unsigned int size, void *data);
void _plat__Reset(bool forceManufacture);
*/
import "C"

import (
	"fmt"
	"unsafe"
)

const haveSimulator = true

// nvImage copies the simulator's whole NV array. The caller holds the
// simulator.
func nvImage() []byte {
	b := make([]byte, nvSize)
	C._plat__NvMemoryRead(0, nvSize, unsafe.Pointer(&b[0]))
	return b
}

// nvCheck makes sure the simulator's NV array is no larger than the image
// this package saves: _plat__NvMemoryWrite refuses, without side effects, a
// write that ends past NV_MEMORY_SIZE. A smaller array cannot be probed
// without touching it; _plat__NvMemoryRead would then fail an assert and
// abort the process on the first save, which is loud enough for a constant
// that only changes with the pinned simulator build.
func nvCheck() error {
	var b [1]byte
	if C._plat__NvMemoryWrite(nvSize, 1, unsafe.Pointer(&b[0])) {
		return fmt.Errorf("simulator NV is larger than %d bytes", nvSize)
	}
	return nil
}

// nvLoad overwrites the simulator's NV array with image, which must be
// nvSize bytes. The TPM only sees it after the next platPowerOn.
func nvLoad(image []byte) error {
	if len(image) != nvSize {
		return fmt.Errorf("%w: image of %d bytes, want %d", ErrStateCorrupt, len(image), nvSize)
	}
	if !C._plat__NvMemoryWrite(0, nvSize, unsafe.Pointer(&image[0])) {
		return fmt.Errorf("%w: simulator refused the image", ErrStateCorrupt)
	}
	return nil
}

// platPowerOn is the platform side of power-on after a power loss without
// manufacture: _TPM_Init, which reloads persistent state from NV. The TPM
// then waits for TPM2_Startup.
func platPowerOn() {
	C._plat__Reset(false)
}
