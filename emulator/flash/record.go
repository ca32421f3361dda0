package flash

// OpKind says what an operation was.
type OpKind uint8

// The kinds of operation.
const (
	OpProgram OpKind = iota + 1
	OpErase
)

func (k OpKind) String() string {
	switch k {
	case OpProgram:
		return "program"
	case OpErase:
		return "erase"
	}
	return "unknown"
}

// Outcome says what became of an operation.
type Outcome uint8

const (
	// Applied: the operation completed with the power on.
	Applied Outcome = iota + 1
	// Dropped: a CutBefore fired; the array did not change.
	Dropped
	// AppliedThenCut: a CutAfter fired; the operation completed.
	AppliedThenCut
	// Torn: a CutTorn fired; the operation was applied in part.
	Torn
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Dropped:
		return "dropped"
	case AppliedThenCut:
		return "applied then cut"
	case Torn:
		return "torn"
	}
	return "unknown"
}

// Op is one counted operation, as Log reports it.
type Op struct {
	Seq     uint64 // 1-based, as Ops counts
	Kind    OpKind
	Offset  int64
	Len     int64 // bytes programmed, or the sector size for an erase
	Outcome Outcome
}

// Log returns the operations counted since Open, NewMem or the last Reset,
// in order, when Config.Record is set; otherwise nil. The slice is a copy.
func (f *Flash) Log() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log == nil {
		return nil
	}
	return append([]Op(nil), f.log...)
}
