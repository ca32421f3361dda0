package ipctest

import (
	"bytes"
	"context"
	"sync"

	"github.com/teeup/teeup/ipc"
)

// Call is one call a Handler got: its op and its arguments, as the
// matching …Args value of package ipc.
type Call struct {
	Op   ipc.Op
	Args any
}

// Handler is a fake secure world: it records every call, in order, and
// answers with the canned results below, or with Errs[op]. Its fields are
// set before the session starts; Calls may be read at any time. It is
// safe for concurrent use.
type Handler struct {
	Components []ipc.ComponentInfo     // Query's answer
	Start      *ipc.StartResult        // StartUpdate's answer
	TEEPReply  *ipc.RelayTEEPResult    // RelayTEEP's answer to a message
	TEEPDone   *ipc.RelayTEEPResult    // RelayTEEP's answer to an empty message (continue)
	EAT        []byte                  // GetEvidence's answer
	Status     *ipc.DeviceStatusResult // DeviceStatus's answer
	Errs       map[ipc.Op]error        // the error an op answers with, if any

	mu    sync.Mutex
	calls []Call
}

var _ ipc.Handler = (*Handler)(nil)

// NewHandler returns a Handler with two components, one in trial, a
// StartUpdate that asks for one payload of set 42, a RelayTEEP that asks
// for one payload of set 43 and a continue that answers a message.
func NewHandler() *Handler {
	return &Handler{
		Components: []ipc.ComponentInfo{
			{ID: [][]byte{[]byte("secure")}, State: ipc.StateReady, SequenceNumber: 7, Digest: []byte{0x82, 0x2f, 0x41, 0xaa}, Size: 4096},
			{ID: [][]byte{[]byte("normal"), {0}}, State: ipc.StateTrial, SequenceNumber: 3, Digest: []byte{0x82, 0x2f, 0x41, 0xbb}, Size: 8192},
		},
		Start: &ipc.StartResult{Set: 42, Payloads: []ipc.PayloadRequest{
			{Index: 0, Component: [][]byte{[]byte("normal"), {0}}, URI: "https://fw.example/normal.bin", Size: 8192},
		}},
		TEEPReply: &ipc.RelayTEEPResult{Set: 43, Payloads: []ipc.PayloadRequest{
			{Index: 0, Component: [][]byte{[]byte("TA"), []byte("acme")}, URI: "https://tam.example/payloads/ab", Size: 512},
		}},
		TEEPDone: &ipc.RelayTEEPResult{Message: []byte("teep success")},
		EAT:      []byte("eat"),
		Status: &ipc.DeviceStatusResult{State: "idle", LastOutcome: "none", Components: []ipc.ComponentStatus{
			{Component: "secure", Counter: 7, Primary: ipc.SlotStatus{SequenceNumber: 7, ImageDigest: []byte{0xaa}, Size: 4096}, Secondary: ipc.SlotStatus{Error: "empty slot"}},
		}},
		Errs: map[ipc.Op]error{},
	}
}

func (h *Handler) record(op ipc.Op, args any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, Call{op, args})
	return h.Errs[op]
}

// Calls returns the calls so far, in order.
func (h *Handler) Calls() []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Call(nil), h.calls...)
}

// Ops returns the ops of the calls so far, in order.
func (h *Handler) Ops() []ipc.Op {
	var ops []ipc.Op
	for _, c := range h.Calls() {
		ops = append(ops, c.Op)
	}
	return ops
}

// Query implements ipc.Handler.
func (h *Handler) Query(context.Context) ([]ipc.ComponentInfo, error) {
	if err := h.record(ipc.OpQuery, ipc.QueryArgs{}); err != nil {
		return nil, err
	}
	return h.Components, nil
}

// StartUpdate implements ipc.Handler.
func (h *Handler) StartUpdate(_ context.Context, envelope []byte) (*ipc.StartResult, error) {
	if err := h.record(ipc.OpStartUpdate, ipc.StartUpdateArgs{Envelope: envelope}); err != nil {
		return nil, err
	}
	return h.Start, nil
}

// WriteChunk implements ipc.Handler. It records a copy of data, which is
// the session's buffer.
func (h *Handler) WriteChunk(_ context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	return h.record(ipc.OpWriteChunk, ipc.WriteChunkArgs{Set: set, Payload: payload, Offset: offset, Data: bytes.Clone(data)})
}

// Finish implements ipc.Handler.
func (h *Handler) Finish(_ context.Context, set uint64, payload uint32) error {
	return h.record(ipc.OpFinish, ipc.FinishArgs{Set: set, Payload: payload})
}

// Install implements ipc.Handler.
func (h *Handler) Install(_ context.Context, set uint64) error {
	return h.record(ipc.OpInstall, ipc.InstallArgs{Set: set})
}

// Cancel implements ipc.Handler.
func (h *Handler) Cancel(_ context.Context, set uint64) error {
	return h.record(ipc.OpCancel, ipc.CancelArgs{Set: set})
}

// Clean implements ipc.Handler.
func (h *Handler) Clean(context.Context) error { return h.record(ipc.OpClean, ipc.CleanArgs{}) }

// DeviceStatus implements ipc.Handler.
func (h *Handler) DeviceStatus(context.Context) (*ipc.DeviceStatusResult, error) {
	if err := h.record(ipc.OpDeviceStatus, ipc.DeviceStatusArgs{}); err != nil {
		return nil, err
	}
	return h.Status, nil
}

// Accept implements ipc.Handler.
func (h *Handler) Accept(context.Context) error { return h.record(ipc.OpAccept, ipc.AcceptArgs{}) }

// Reject implements ipc.Handler.
func (h *Handler) Reject(context.Context) error { return h.record(ipc.OpReject, ipc.RejectArgs{}) }

// Reboot implements ipc.Handler.
func (h *Handler) Reboot(context.Context) error { return h.record(ipc.OpReboot, ipc.RebootArgs{}) }

// RelayTEEP implements ipc.Handler: TEEPDone answers an empty message
// (continue), TEEPReply any other.
func (h *Handler) RelayTEEP(_ context.Context, msg []byte) (*ipc.RelayTEEPResult, error) {
	if err := h.record(ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: msg}); err != nil {
		return nil, err
	}
	if len(msg) == 0 {
		return h.TEEPDone, nil
	}
	return h.TEEPReply, nil
}

// Evidence implements ipc.Handler.
func (h *Handler) Evidence(_ context.Context, nonce []byte) ([]byte, error) {
	if err := h.record(ipc.OpGetEvidence, ipc.GetEvidenceArgs{Nonce: nonce}); err != nil {
		return nil, err
	}
	return h.EAT, nil
}
