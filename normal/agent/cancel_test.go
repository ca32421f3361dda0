package agent_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/payload"
)

// TestUpdateCancelsOnFailure: whatever fails, the agent cancels the set
// with the secure world before it returns (the set it opened, or 0 when
// none was opened), and never installs after a failure or after ctx ended.
// The secure world is a recording fake, so the test sees every call.
func TestUpdateCancelsOnFailure(t *testing.T) {
	t.Parallel()
	refused := ipc.Errorf(ipc.Rejected, "refused")
	for _, tc := range []struct {
		name      string
		envelopes int
		errs      map[ipc.Op]error
		local     bool // the payload is a local file; else it is missing
		cancelMid bool // cancel ctx once the first chunk is sent
		wantErr   error
		wantOps   []ipc.Op
	}{
		{"first envelope refused", 1, map[ipc.Op]error{ipc.OpStartUpdate: refused}, true, false, ipc.ErrRejected,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpCancel}},
		{"missing local file", 1, nil, false, false, os.ErrNotExist,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpCancel}},
		// One chunk: of several, those in flight are sent before the
		// refusal of the first is read.
		{"chunk refused", 1, map[ipc.Op]error{ipc.OpWriteChunk: refused}, true, false, ipc.ErrRejected,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpCancel}},
		{"digest refused", 1, map[ipc.Op]error{ipc.OpFinish: refused}, true, false, ipc.ErrRejected,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpCancel}},
		{"install refused", 1, map[ipc.Op]error{ipc.OpInstall: refused}, true, false, ipc.ErrRejected,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpInstall, ipc.OpCancel}},
		{"cancelled by the user mid-payload", 1, nil, true, true, context.Canceled,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpCancel}},
		{"cancel itself fails", 1, map[ipc.Op]error{ipc.OpFinish: refused, ipc.OpCancel: ipc.Errorf(ipc.Internal, "flash")}, true, false, payload.ErrCancelFailed,
			[]ipc.Op{ipc.OpStartUpdate, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpCancel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := ipctest.NewHandler()
			for op, err := range tc.errs {
				h.Errs[op] = err
			}
			normal, secure := ipctest.Pipe()
			done := make(chan error, 1)
			go func() { done <- ipc.Serve(context.Background(), secure, h) }()
			c, err := ipc.NewClient(normal)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { c.Close(); <-done }()
			if tc.errs[ipc.OpWriteChunk] == nil {
				h.Start.Payloads[0].Size = 3 * ipc.MaxChunk // three chunks
			}
			p := h.Start.Payloads[0]
			file := filepath.Join(t.TempDir(), "payload.bin")
			if tc.local {
				if err := os.WriteFile(file, make([]byte, p.Size), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := &agent.Agent{SW: c, Local: map[string]string{p.URI: file}}
			if tc.cancelMid {
				// The first line about the payload's bytes comes once its
				// first chunk is sent: the user's Ctrl-C, then.
				a.Progress = func(line string) {
					if strings.HasPrefix(line, "payload ") {
						cancel()
					}
				}
			}
			_, err = a.Update(ctx, slices.Collect(envelopes(tc.envelopes)))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Update = %v, want %v", err, tc.wantErr)
			}
			if got := h.Ops(); !slices.Equal(got, tc.wantOps) {
				t.Fatalf("the secure world saw %v, want %v", got, tc.wantOps)
			}
			calls := h.Calls()
			wantSet := uint64(42)
			if tc.wantOps[0] == ipc.OpStartUpdate && tc.errs[ipc.OpStartUpdate] != nil {
				wantSet = 0 // no set was opened: whichever is in progress
			}
			if got := calls[len(calls)-1].Args.(ipc.CancelArgs).Set; got != wantSet {
				t.Errorf("cancelled set %d, want %d", got, wantSet)
			}
		})
	}
}

// envelopes yields n envelopes; the fake secure world does not read them.
func envelopes(n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for i := range n {
			if !yield([]byte{byte(i)}) {
				return
			}
		}
	}
}

// TestHealthCheckReportsTheSecureWorldsAnswer: a health check that passed
// is reported accepted only when the secure world accepted the trial.
func TestHealthCheckReportsTheSecureWorldsAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		check   error
		errs    map[ipc.Op]error
		want    agent.Health
		wantErr error
	}{
		{"accepted", nil, nil, agent.HealthAccepted, nil},
		{"accept fails", nil, map[ipc.Op]error{ipc.OpAccept: ipc.Errorf(ipc.Internal, "counter")}, agent.HealthAcceptFailed, ipc.ErrInternal},
		{"rejected", errors.New("unhealthy"), nil, agent.HealthRejected, nil},
		{"reject fails", errors.New("unhealthy"), map[ipc.Op]error{ipc.OpReject: ipc.Errorf(ipc.BadState, "no trial")}, agent.HealthRejectFailed, ipc.ErrBadState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := ipctest.NewHandler() // its second component is in trial
			for op, err := range tc.errs {
				h.Errs[op] = err
			}
			normal, secure := ipctest.Pipe()
			done := make(chan error, 1)
			go func() { done <- ipc.Serve(context.Background(), secure, h) }()
			c, err := ipc.NewClient(normal)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { c.Close(); <-done }()
			a := &agent.Agent{SW: c}
			got, err := a.HealthCheck(context.Background(), func(context.Context) error { return tc.check })
			if got != tc.want || (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("HealthCheck = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
