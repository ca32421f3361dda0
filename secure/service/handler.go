// Package service is the secure world's side of the ipc channel: it
// answers the normal world's requests with the update service, and maps
// the secure world's typed errors onto the channel's codes.
//
// Trust: none in the peer. Every request goes to fwu, which checks it; an
// error's text crosses to the normal world, so errors name what was
// refused and why, never a key or a plaintext.
package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/evidence"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
)

// Handler implements ipc.Handler over the update service.
type Handler struct {
	FWU *fwu.Service
	// Boot and Store answer DeviceStatus; with Boot nil it is refused as
	// unsupported. Store may be nil: no TAs.
	Boot  *boot.Device
	Store *storage.Store
	// Attest answers GetEvidence; with it nil GetEvidence is refused as
	// unsupported.
	Attest *evidence.Source
	// Agent answers RelayTEEP; with it nil (the device trusts no TAM)
	// RelayTEEP is refused as unsupported.
	Agent *teep.Agent
}

var (
	_ ipc.Handler      = (*Handler)(nil)
	_ ipc.ChunkBuffers = (*Handler)(nil)
)

// ChunkBuffer implements ipc.ChunkBuffers: a shared chunk of a plain
// firmware payload is copied straight into the buffer that hashes and
// programs it.
func (h *Handler) ChunkBuffer(set uint64, payload uint32, n int) []byte {
	return h.FWU.ChunkBuffer(set, payload, n)
}

// code maps a secure-world error to the channel's code.
func code(err error) ipc.Code {
	switch {
	case errors.Is(err, fwu.ErrBusy), errors.Is(err, boot.ErrBusy):
		return ipc.Busy
	case errors.Is(err, fwu.ErrBadState), errors.Is(err, boot.ErrNoTrial):
		return ipc.BadState
	case errors.Is(err, fwu.ErrOutOfRange), errors.Is(err, boot.ErrStagingOrder):
		return ipc.OutOfRange
	case errors.Is(err, fwu.ErrNotFound):
		return ipc.NotFound
	case errors.Is(err, suit.ErrUnsupported):
		return ipc.Unsupported
	case errors.Is(err, suit.ErrRejected), errors.Is(err, boot.ErrEmptySlot), errors.Is(err, evidence.ErrNonce):
		return ipc.Rejected
	}
	return ipc.Internal
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	return ipc.Errorf(code(err), "%v", err)
}

// Query implements ipc.Handler.
func (h *Handler) Query(ctx context.Context) ([]ipc.ComponentInfo, error) {
	infos, err := h.FWU.Query(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]ipc.ComponentInfo, len(infos))
	for i, in := range infos {
		var digest []byte
		if in.Digest != nil {
			digest = suit.Digest{Alg: suit.AlgSHA256, Bytes: in.Digest}.Encode()
		}
		out[i] = ipc.ComponentInfo{ID: in.ID, State: ipc.State(in.State), SequenceNumber: in.SequenceNumber,
			Digest: digest, Size: in.Size}
	}
	return out, nil
}

// StartUpdate implements ipc.Handler.
func (h *Handler) StartUpdate(ctx context.Context, envelope []byte) (*ipc.StartResult, error) {
	set, reqs, err := h.FWU.StartUpdate(ctx, envelope)
	if err != nil {
		return nil, wrap(err)
	}
	res := &ipc.StartResult{Set: set}
	for _, r := range reqs {
		res.Payloads = append(res.Payloads, ipc.PayloadRequest{Index: r.Index, Component: r.Component, URI: r.URI, Size: r.Size})
	}
	return res, nil
}

// WriteChunk implements ipc.Handler.
func (h *Handler) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	return wrap(h.FWU.WriteChunk(ctx, set, payload, offset, data))
}

// Finish implements ipc.Handler.
func (h *Handler) Finish(ctx context.Context, set uint64, payload uint32) error {
	return wrap(h.FWU.Finish(ctx, set, payload))
}

// Install implements ipc.Handler.
func (h *Handler) Install(ctx context.Context, set uint64) error {
	return wrap(h.FWU.Install(ctx, set))
}

// Cancel implements ipc.Handler.
func (h *Handler) Cancel(ctx context.Context, set uint64) error {
	return wrap(h.FWU.Cancel(ctx, set))
}

// Clean implements ipc.Handler.
func (h *Handler) Clean(ctx context.Context) error { return wrap(h.FWU.Clean(ctx)) }

// DeviceStatus implements ipc.Handler.
func (h *Handler) DeviceStatus(ctx context.Context) (*ipc.DeviceStatusResult, error) {
	if h.Boot == nil {
		return nil, ipc.Errorf(ipc.Unsupported, "this secure world reports no device status")
	}
	st, err := DeviceStatus(ctx, h.Boot, h.Store)
	return st, wrap(err)
}

// Accept implements ipc.Handler.
func (h *Handler) Accept(ctx context.Context) error { return wrap(h.FWU.Accept(ctx)) }

// Reject implements ipc.Handler.
func (h *Handler) Reject(ctx context.Context) error { return wrap(h.FWU.Reject(ctx)) }

// RelayTEEP implements ipc.Handler: the TAM's message goes to the TEEP
// Agent; an empty one continues the install set whose payloads the
// Agent's last answer asked for, once they are written.
func (h *Handler) RelayTEEP(ctx context.Context, msg []byte) (*ipc.RelayTEEPResult, error) {
	if h.Agent == nil {
		return nil, ipc.Errorf(ipc.Unsupported, "this secure world has no TEEP Agent")
	}
	var ans teep.Answer
	var err error
	if len(msg) == 0 {
		ans, err = h.Agent.Continue(ctx)
	} else {
		ans, err = h.Agent.Handle(ctx, msg)
	}
	if err != nil {
		return nil, teepError(err)
	}
	res := &ipc.RelayTEEPResult{Set: ans.Set, Reboot: ans.Reboot, Message: ans.Message}
	for _, p := range ans.Payloads {
		res.Payloads = append(res.Payloads, ipc.PayloadRequest{Index: p.Index, Component: p.Component, URI: p.URI, Size: p.Size})
	}
	return res, nil
}

// teepError maps what the Agent refuses without an answer to the
// channel's codes: a message it does not answer (no trusted TAM signed
// it, or it does not decode) is rejected; a continue with no set waiting,
// or before its payloads are written, is out of order.
func teepError(err error) error {
	switch {
	case errors.Is(err, teep.ErrNothingPending), errors.Is(err, teep.ErrNotReady):
		return ipc.Errorf(ipc.BadState, "%v", err)
	case errors.Is(err, teep.ErrSignature), errors.Is(err, teep.ErrMalformed), errors.Is(err, teep.ErrAlgorithm):
		return ipc.Errorf(ipc.Rejected, "%v", err)
	}
	return wrap(err)
}

// Evidence implements ipc.Handler: the device's evidence for the
// verifier's nonce, made and signed here; the normal world only relays it.
func (h *Handler) Evidence(_ context.Context, nonce []byte) ([]byte, error) {
	if h.Attest == nil {
		return nil, ipc.Errorf(ipc.Unsupported, "this secure world produces no evidence")
	}
	ev, err := h.Attest.Evidence(nonce)
	return ev, wrap(err)
}

// Reboot implements ipc.Handler: the secure world agrees to reset; its
// process exits with device.ExitReboot once the answer is sent.
func (h *Handler) Reboot(context.Context) error { return nil }

// String names the handler in logs.
func (h *Handler) String() string { return fmt.Sprintf("secure world (%T)", h.FWU) }
