package ipc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// requiredSeals are the seals without which the secure world refuses a
// region: a normal world that could shrink the memory under the secure
// world's mapping would make its next read fault (SIGBUS), and one that
// could remove seals could do that later.
const requiredSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL

// CreateShared creates the shared region of a device, size bytes of
// memory with no name in any file system (memfd_create(2)), sealed
// against any change of size: the device host makes it and hands it to
// both worlds.
func CreateShared(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("teeup-ipc-shared", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("ipc: create shared region: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ipc-shared")
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("ipc: size shared region: %w", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, requiredSeals); err != nil {
		f.Close()
		return nil, fmt.Errorf("ipc: seal shared region: %w", err)
	}
	return f, nil
}

// MapShared maps the shared region f: writable for the normal world,
// read-only for the secure world, which also checks that the region is
// sealed against shrinking. f may be closed afterwards.
func MapShared(f *os.File, writable bool) (*Shared, error) {
	fd := int(f.Fd())
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&requiredSeals != requiredSeals {
		return nil, fmt.Errorf("ipc: shared region not sealed against resizing (seals %#x): %v", seals, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("ipc: shared region: %w", err)
	}
	if st.Size <= 0 || st.Size > maxShared {
		return nil, fmt.Errorf("ipc: shared region of %d bytes, want 1 to %d", st.Size, maxShared)
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("ipc: map shared region: %w", err)
	}
	return &Shared{mem: mem, unmap: func() error { return unix.Munmap(mem) }}, nil
}
