package ipc

import "strconv"

// SharedSlots is how many chunks of MaxChunk bytes the shared region of
// a device holds: a WriteShared request holds one until its answer, so
// this is also how many of them are in flight.
const SharedSlots = 4

// Shared is a region of memory that both worlds map, as GlobalPlatform
// TEE Client API shared memory: the normal world writes the data of a
// chunk into it and names it in a WriteShared request, and the secure
// world copies it out. The normal world may change the region at any
// time, so the secure world reads each chunk exactly once, into memory of
// its own, before anything looks at it: a handler never sees the region.
// Nothing goes the other way; the secure world maps it read-only.
type Shared struct {
	mem   []byte
	unmap func() error
}

// NewShared returns a region of size bytes in this process's memory, for
// both worlds run in one process (tests, the in-process mode).
func NewShared(size int) *Shared {
	return &Shared{mem: make([]byte, size)}
}

// NewSharedFrom returns a region over mem, memory of this process that the
// caller, standing for the normal world, writes as it likes.
func NewSharedFrom(mem []byte) *Shared { return &Shared{mem: mem} }

// Len is the size of the region.
func (s *Shared) Len() int { return len(s.mem) }

// Close unmaps a mapped region. The region must not be used after it.
func (s *Shared) Close() error {
	if s.unmap == nil {
		return nil
	}
	err := s.unmap()
	s.unmap, s.mem = nil, nil
	return err
}

// slot is the normal world's view of slot i of size bytes.
func (s *Shared) slot(i, size int) []byte { return s.mem[i*size : (i+1)*size] }

// check refuses a range of n bytes at start that is not inside the
// region.
func (s *Shared) check(start uint64, n uint32) *Error {
	if start > uint64(len(s.mem)) || uint64(n) > uint64(len(s.mem))-start {
		return protocolError(LimitExceeded, "shared range of "+strconv.FormatUint(uint64(n), 10)+" bytes at "+
			strconv.FormatUint(start, 10)+" outside the region of "+strconv.Itoa(len(s.mem))+" bytes", nil)
	}
	return nil
}

// copyOut copies the n bytes at start of the region, a range check
// accepted, into dst, which must hold them: the one read of them.
func (s *Shared) copyOut(dst []byte, start uint64, n uint32) []byte {
	return dst[:copy(dst[:n], s.mem[start:start+uint64(n)])]
}

// errNoShared refuses a WriteShared in a session without a region.
var errNoShared = protocolError(Malformed, "WriteShared in a session with no shared region", nil)
