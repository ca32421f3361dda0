package ipc

import (
	"strconv"
	"unicode/utf8"
)

// Op names an operation. Numbers are never reused; a new operation gets a
// new number and a new protocol version.
type Op uint32

// The operations, modelled on the PSA Firmware Update API (query, start,
// write, finish, install, accept, reject) and the GlobalPlatform TEE Client
// API (a message in, a message out).
const (
	OpQuery       Op = 1 // QueryArgs → []ComponentInfo
	OpStartUpdate Op = 2 // StartUpdateArgs → StartResult
	OpWriteChunk  Op = 3 // WriteChunkArgs → nothing
	OpFinish      Op = 4 // FinishArgs → nothing
	OpInstall     Op = 5 // InstallArgs → nothing
	OpAccept      Op = 6 // AcceptArgs → nothing
	OpReject      Op = 7 // RejectArgs → nothing
	OpRelayTEEP   Op = 8 // RelayTEEPArgs → RelayTEEPResult
	OpGetEvidence Op = 9 // GetEvidenceArgs → EvidenceResult
	// OpReboot asks the secure world to reset the device (PSA FWU
	// psa_fwu_request_reboot), typically after Install.
	OpReboot Op = 10 // RebootArgs → nothing; the session then ends
	// OpWriteShared is WriteChunk with the data in the shared region
	// (GlobalPlatform TEE Client API shared memory) rather than in the
	// frame: the secure world copies it out before it looks at it.
	OpWriteShared Op = 11 // WriteSharedArgs → nothing
	// OpCancel abandons an update set before Install (PSA FWU
	// psa_fwu_cancel): the normal world sends it after any failure, so
	// that the next update finds the secure world idle.
	OpCancel Op = 12 // CancelArgs → nothing
	// OpClean discards a failed update set (PSA FWU psa_fwu_clean).
	OpClean Op = 13 // CleanArgs → nothing
	// OpDeviceStatus asks for the secure world's whole status: the
	// bootloader's journal, each component's counter and slots, the TA
	// store; what `device status` shows of a device that is off.
	OpDeviceStatus Op = 14 // DeviceStatusArgs → DeviceStatusResult
)

// State is the state of a component, as in the PSA Firmware Update API.
// It crosses the wire as its text; an unknown state is refused.
type State string

// The states of the PSA Firmware Update API 1.0 component state machine.
const (
	StateReady     State = "READY"
	StateWriting   State = "WRITING"
	StateCandidate State = "CANDIDATE"
	StateStaged    State = "STAGED"
	StateTrial     State = "TRIAL"
	StateRejected  State = "REJECTED"
	StateFailed    State = "FAILED"
	StateUpdated   State = "UPDATED"
)

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case StateReady, StateWriting, StateCandidate, StateStaged, StateTrial, StateRejected, StateFailed, StateUpdated:
		return true
	}
	return false
}

// Arguments, one type per operation. See Request for the encoding rules.
type (
	// QueryArgs asks for the state of every component.
	QueryArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// StartUpdateArgs hands a SUIT envelope to the secure world, which
	// verifies it and opens an update set.
	StartUpdateArgs struct {
		_        struct{} `cbor:",toarray"`
		Envelope []byte   // at most MaxEnvelope bytes
	}
	// WriteChunkArgs writes bytes of a detached payload into the set.
	WriteChunkArgs struct {
		_       struct{} `cbor:",toarray"`
		Set     uint64   // handle from StartResult
		Payload uint32   // PayloadRequest.Index
		Offset  uint64   // where Data goes in the payload
		Data    []byte   // at most MaxChunk bytes
	}
	// WriteSharedArgs writes the Length bytes at Start of the shared
	// region into the set, as WriteChunkArgs writes Data.
	WriteSharedArgs struct {
		_       struct{} `cbor:",toarray"`
		Set     uint64
		Payload uint32
		Offset  uint64
		Start   uint64 // where the data starts in the shared region
		Length  uint32 // at most MaxChunk bytes
	}
	// FinishArgs declares a payload complete; the secure world checks its
	// digest.
	FinishArgs struct {
		_       struct{} `cbor:",toarray"`
		Set     uint64
		Payload uint32
	}
	// InstallArgs stages a set whose payloads are all finished, to be
	// applied at the next reset.
	InstallArgs struct {
		_   struct{} `cbor:",toarray"`
		Set uint64
	}
	// AcceptArgs makes the images in trial permanent.
	AcceptArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// RejectArgs abandons the images in trial (or a staged set).
	RejectArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// RebootArgs asks for a reset.
	RebootArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// CancelArgs abandons the update set Set before it is installed; 0
	// means whichever set is in progress.
	CancelArgs struct {
		_   struct{} `cbor:",toarray"`
		Set uint64
	}
	// CleanArgs discards a failed update set.
	CleanArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// DeviceStatusArgs asks for the secure world's status.
	DeviceStatusArgs struct {
		_ struct{} `cbor:",toarray"`
	}
	// RelayTEEPArgs carries a TEEP message from the TAM to the Agent. An
	// empty Message is "continue": the Agent commits the install set it
	// asked payloads for (RelayTEEPResult.Payloads), once the normal world
	// has written and finished them all under RelayTEEPResult.Set.
	RelayTEEPArgs struct {
		_       struct{} `cbor:",toarray"`
		Message []byte   // at most MaxTEEPMessage bytes
	}
	// GetEvidenceArgs asks for evidence bound to Nonce.
	GetEvidenceArgs struct {
		_     struct{} `cbor:",toarray"`
		Nonce []byte   // at most MaxNonce bytes
	}
)

// The arguments and results that end with a large byte string, which is
// framed from the caller's slice rather than copied (see message).
func (a StartUpdateArgs) withoutTail() (validator, []byte) { return StartUpdateArgs{}, a.Envelope }
func (a RelayTEEPArgs) withoutTail() (validator, []byte)   { return RelayTEEPArgs{}, a.Message }
func (r relayTEEPWire) withoutTail() (validator, []byte) {
	tail := r.Message
	r.Message = nil
	return r, tail
}
func (r EvidenceResult) withoutTail() (validator, []byte) { return EvidenceResult{}, r.Evidence }
func (a WriteChunkArgs) withoutTail() (validator, []byte) {
	tail := a.Data
	a.Data = nil
	return a, tail
}

// Results, one type per operation that returns something. Query returns a
// []ComponentInfo; WriteChunk, Finish, Install, Accept and Reject return
// nothing.
type (
	// ComponentInfo describes one component, as Query reports it.
	ComponentInfo struct {
		_              struct{} `cbor:",toarray"`
		ID             [][]byte // SUIT component identifier
		State          State
		SequenceNumber uint64 // of the manifest that installed it
		Digest         []byte // encoded SUIT_Digest of the image
		Size           uint64
	}
	// StartResult is the answer to StartUpdate: the handle of the new
	// update set and the detached payloads the normal world must fetch
	// and write.
	StartResult struct {
		_        struct{} `cbor:",toarray"`
		Set      uint64
		Payloads []PayloadRequest
	}
	// PayloadRequest asks the normal world to fetch URI and write its
	// Size bytes with WriteChunk under Index.
	PayloadRequest struct {
		_         struct{} `cbor:",toarray"`
		Index     uint32
		Component [][]byte
		URI       string
		Size      uint64
	}
	// RelayTEEPResult carries the Agent's answer. A non-empty Message is
	// the TEEP message to send to the TAM. An empty one with Payloads
	// means the Agent started install set Set and needs these payloads:
	// the normal world writes and finishes each under Set (WriteChunk,
	// Finish), then relays an empty message to continue. An empty one
	// without Payloads means the Agent has nothing to send. Reboot is
	// true when the set committed staged firmware: the normal world asks
	// Reboot once it has sent Message.
	RelayTEEPResult struct {
		Set      uint64
		Payloads []PayloadRequest
		Reboot   bool
		Message  []byte // the last field: it is framed as the tail
	}
	// EvidenceResult carries the evidence (an EAT).
	EvidenceResult struct {
		_        struct{} `cbor:",toarray"`
		Evidence []byte
	}
)

// The secure world's status, the result of DeviceStatus.
type (
	// DeviceStatusResult is the bootloader's view of the device and the
	// TA store's records, as the secure world reads them.
	DeviceStatusResult struct {
		_           struct{} `cbor:",toarray"`
		State       string   // idle, staged, trial, confirming or reverting
		Set         []string // the components of the install set in progress
		TrialBoots  uint64
		Generation  uint64 // of the journal
		LastOutcome string // of the last install set
		Components  []ComponentStatus
		TAs         []TAStatus
	}
	// ComponentStatus is one component's anti-rollback counter and what
	// each of its slots holds.
	ComponentStatus struct {
		_                  struct{} `cbor:",toarray"`
		Component          string
		Counter            uint64
		Primary, Secondary SlotStatus
	}
	// SlotStatus is the image a slot holds, if it verifies (ImageDigest
	// is not empty), or why it does not (Error).
	SlotStatus struct {
		_              struct{} `cbor:",toarray"`
		SequenceNumber uint64
		ManifestDigest []byte // encoded SUIT digest of the manifest
		ImageDigest    []byte // SHA-256 of the image
		Size           uint64
		Error          string
	}
	// TAStatus is one record of the TA store: never its personalization
	// data, only whether it has some.
	TAStatus struct {
		_              struct{} `cbor:",toarray"`
		ID             [][]byte
		SequenceNumber uint64
		Flags          uint64 // TAUnlinked, TAPersonalized
		Size           uint64 // of the image
		SHA256         []byte // of the image
	}
)

// The flags of a TAStatus (the wire has no booleans).
const (
	TAUnlinked     = 1 << 0 // the TA was removed; nothing else is kept of it
	TAPersonalized = 1 << 1 // the TA has personalization data
)

// Verified reports whether the slot holds an image that verifies.
func (s SlotStatus) Verified() bool { return len(s.ImageDigest) > 0 }

func (r DeviceStatusResult) validate() error {
	if err := checkText("state", r.State, MaxStatusText); err != nil {
		return err
	}
	if err := checkText("last outcome", r.LastOutcome, MaxStatusText); err != nil {
		return err
	}
	if len(r.Set) > MaxComponents {
		return tooMany("components in the set", len(r.Set), MaxComponents)
	}
	for _, c := range r.Set {
		if err := checkText("component", c, MaxStatusText); err != nil {
			return err
		}
	}
	if len(r.Components) > MaxComponents {
		return tooMany("components", len(r.Components), MaxComponents)
	}
	for _, c := range r.Components {
		if err := c.validate(); err != nil {
			return err
		}
	}
	if len(r.TAs) > MaxComponents {
		return tooMany("TAs", len(r.TAs), MaxComponents)
	}
	for _, ta := range r.TAs {
		if err := ta.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (c ComponentStatus) validate() error {
	if err := checkText("component", c.Component, MaxStatusText); err != nil {
		return err
	}
	if err := c.Primary.validate(); err != nil {
		return err
	}
	return c.Secondary.validate()
}

func (s SlotStatus) validate() error {
	if err := checkBytes("manifest digest", s.ManifestDigest, MaxDigest); err != nil {
		return err
	}
	if err := checkBytes("image digest", s.ImageDigest, MaxDigest); err != nil {
		return err
	}
	return checkText("slot error", s.Error, MaxMessage)
}

func (t TAStatus) validate() error {
	if err := checkComponentID(t.ID); err != nil {
		return err
	}
	if t.Flags&^(TAUnlinked|TAPersonalized) != 0 {
		return protocolError(Malformed, "unknown TA flags "+strconv.FormatUint(t.Flags, 16), nil)
	}
	return checkBytes("TA digest", t.SHA256, MaxDigest)
}

// noResult is the encoding of "nothing": an empty array.
type noResult struct {
	_ struct{} `cbor:",toarray"`
}

// validator checks the bounds that the CBOR decoder cannot express.
type validator interface{ validate() error }

func tooLong(what string, n, limit int) error {
	return protocolError(LimitExceeded, what+" of "+strconv.Itoa(n)+" bytes, bound "+strconv.Itoa(limit), nil)
}

func tooMany(what string, n, limit int) error {
	return protocolError(LimitExceeded, strconv.Itoa(n)+" "+what+", bound "+strconv.Itoa(limit), nil)
}

func checkBytes(what string, b []byte, limit int) error {
	if len(b) > limit {
		return tooLong(what, len(b), limit)
	}
	return nil
}

func checkText(what, s string, limit int) error {
	if len(s) > limit {
		return tooLong(what, len(s), limit)
	}
	if !utf8.ValidString(s) {
		return protocolError(Malformed, what+" is not UTF-8", nil)
	}
	return nil
}

func checkComponentID(id [][]byte) error {
	if len(id) > MaxComponentIDParts {
		return tooMany("component ID parts", len(id), MaxComponentIDParts)
	}
	for _, p := range id {
		if err := checkBytes("component ID part", p, MaxComponentIDPart); err != nil {
			return err
		}
	}
	return nil
}

func (QueryArgs) validate() error        { return nil }
func (AcceptArgs) validate() error       { return nil }
func (RejectArgs) validate() error       { return nil }
func (RebootArgs) validate() error       { return nil }
func (FinishArgs) validate() error       { return nil }
func (InstallArgs) validate() error      { return nil }
func (CancelArgs) validate() error       { return nil }
func (CleanArgs) validate() error        { return nil }
func (DeviceStatusArgs) validate() error { return nil }
func (noResult) validate() error         { return nil }
func (a StartUpdateArgs) validate() error {
	return checkBytes("envelope", a.Envelope, MaxEnvelope)
}
func (a WriteChunkArgs) validate() error { return checkBytes("chunk", a.Data, MaxChunk) }
func (a WriteSharedArgs) validate() error {
	if a.Length > MaxChunk {
		return tooLong("chunk", int(a.Length), MaxChunk)
	}
	return nil
}
func (a RelayTEEPArgs) validate() error { return checkBytes("TEEP message", a.Message, MaxTEEPMessage) }
func (a GetEvidenceArgs) validate() error {
	return checkBytes("nonce", a.Nonce, MaxNonce)
}

// relayTEEPWire is RelayTEEPResult as it crosses the wire, which has no
// booleans: Reboot is 0 or 1.
type relayTEEPWire struct {
	_        struct{} `cbor:",toarray"`
	Set      uint64
	Payloads []PayloadRequest
	Reboot   uint8
	Message  []byte
}

func (r RelayTEEPResult) wire() relayTEEPWire {
	w := relayTEEPWire{Set: r.Set, Payloads: r.Payloads, Message: r.Message}
	if r.Reboot {
		w.Reboot = 1
	}
	return w
}

func (r relayTEEPWire) public() RelayTEEPResult {
	return RelayTEEPResult{Set: r.Set, Payloads: r.Payloads, Reboot: r.Reboot == 1, Message: r.Message}
}

func (r relayTEEPWire) validate() error {
	if r.Reboot > 1 {
		return protocolError(Malformed, "reboot flag "+strconv.Itoa(int(r.Reboot))+" is neither 0 nor 1", nil)
	}
	if err := checkPayloads(r.Payloads); err != nil {
		return err
	}
	return checkBytes("TEEP message", r.Message, MaxTEEPMessage)
}
func (r EvidenceResult) validate() error { return checkBytes("evidence", r.Evidence, MaxEvidence) }

func (c ComponentInfo) validate() error {
	if err := checkComponentID(c.ID); err != nil {
		return err
	}
	if !c.State.Valid() {
		return protocolError(Malformed, "unknown component state "+strconv.Quote(string(c.State)), nil)
	}
	return checkBytes("digest", c.Digest, MaxDigest)
}

// componentList is the result of Query.
type componentList []ComponentInfo

func (l componentList) validate() error {
	if len(l) > MaxComponents {
		return tooMany("components", len(l), MaxComponents)
	}
	for _, c := range l {
		if err := c.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (p PayloadRequest) validate() error {
	if err := checkComponentID(p.Component); err != nil {
		return err
	}
	return checkText("URI", p.URI, MaxURI)
}

func (r StartResult) validate() error { return checkPayloads(r.Payloads) }

func checkPayloads(ps []PayloadRequest) error {
	if len(ps) > MaxPayloads {
		return tooMany("payloads", len(ps), MaxPayloads)
	}
	for _, p := range ps {
		if err := p.validate(); err != nil {
			return err
		}
	}
	return nil
}
