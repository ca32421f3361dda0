package teepsrv

// Observer hears what the TEEP endpoint does, for metrics (tam/metrics).
// Its methods must be safe for concurrent use and must not block.
type Observer interface {
	// SessionOpened: a QueryRequest went out.
	SessionOpened()
	// Appraised: a device's evidence was appraised with this AR4SI trust
	// tier ("affirming", "warning", "contraindicated", "none").
	Appraised(status string)
	// Answered: a device answered an Update with Success or Error.
	Answered(success bool)
}

// noObserver is the Observer of a Server without one.
type noObserver struct{}

func (noObserver) SessionOpened()   {}
func (noObserver) Appraised(string) {}
func (noObserver) Answered(bool)    {}
