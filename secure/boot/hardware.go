package boot

// Flash is the NOR flash the bootloader owns: erase sets a sector to 0xFF,
// program only writes erased, aligned bytes. Errors from a power cut must
// stop the bootloader at once; it resumes from the journal at next boot.
type Flash interface {
	Read(off int64, p []byte) error
	Program(off int64, data []byte) error
	EraseSector(off int64) error
}

// MappedFlash is flash that the CPU also sees as memory (execute in
// place): the bootloader then hashes images where they lie instead of
// copying them out.
type MappedFlash interface {
	Mapped(off, n int64) ([]byte, error)
}

// Counters are the anti-rollback values (TPM rollback indices on the
// device), one per component, holding the lowest manifest sequence number
// it may run.
type Counters interface {
	Counter(c Component) (uint64, error)
	// AdvanceCounterTo raises the counter to v; it never lowers it. It
	// takes any uint64 above the counter, in the same time whatever the
	// distance: the bootloader verifies a manifest against the counter
	// before its trial and raises the counter only at accept, so a
	// sequence number the counter could not take would be found only
	// after the trial, with the journal stuck in confirming.
	AdvanceCounterTo(c Component, v uint64) error
}

// PCR is the platform configuration register that measured boot extends.
type PCR interface {
	Extend(digest []byte) error
}
