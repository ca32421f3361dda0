package world_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/control"
	"github.com/teeup/teeup/normal/world"
)

// teepTAM answers the empty POST with an Update and the Agent's Success
// with 204, and records the bodies it got.
type teepTAM struct {
	mu     sync.Mutex
	bodies []string
}

func (m *teepTAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/tam" {
		w.WriteHeader(http.StatusNoContent) // the long poll: nothing
		return
	}
	b, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.bodies = append(m.bodies, string(b))
	m.mu.Unlock()
	if len(b) > 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", broker.MediaType)
	w.Write([]byte("update"))
}

func (m *teepTAM) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.bodies)
}

// stagingAgent is a secure world whose Agent answers every TEEP message
// with a Success that staged firmware (Reboot).
func stagingAgent() *ipctest.Handler {
	h := ipctest.NewHandler()
	h.TEEPReply = &ipc.RelayTEEPResult{Message: []byte("success"), Reboot: true}
	return h
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestRunTEEPReboots: a normal world started with a TAM runs a session
// once its boot is checked; the session staged firmware, so once the
// Success is posted the normal world asks the secure world to reboot.
func TestRunTEEPReboots(t *testing.T) {
	t.Parallel()
	tam := &teepTAM{}
	srv := httptest.NewServer(tam)
	defer srv.Close()
	h := stagingAgent()
	normal, secure := ipctest.Pipe()
	go ipc.Serve(context.Background(), secure, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- world.Run(ctx, world.Config{Conn: normal, Socket: filepath.Join(t.TempDir(), "normal.sock"),
			TEEP: &world.TEEP{TAM: srv.URL, Poll: time.Hour}})
	}()
	waitFor(t, "the reboot", func() bool { return slices.Contains(h.Ops(), ipc.OpReboot) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := tam.got(); !slices.Equal(got, []string{"", "success"}) {
		t.Fatalf("the TAM got %q", got)
	}
	ops := h.Ops()
	if i := slices.Index(ops, ipc.OpRelayTEEP); i < 0 || i > slices.Index(ops, ipc.OpReboot) {
		t.Fatalf("the secure world saw %v", ops)
	}
}

// TestControlTEEP: teep on the control socket runs one session with the
// TAM it names and answers with the session's outcome; a session that
// staged nothing answers with the status.
func TestControlTEEP(t *testing.T) {
	t.Parallel()
	tam := &teepTAM{}
	srv := httptest.NewServer(tam)
	defer srv.Close()
	h := ipctest.NewHandler()
	h.TEEPReply = &ipc.RelayTEEPResult{Message: []byte("success")}
	normal, secure := ipctest.Pipe()
	go ipc.Serve(context.Background(), secure, h)
	sock := filepath.Join(t.TempDir(), "normal.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go world.Run(ctx, world.Config{Conn: normal, Socket: sock})
	var final *control.Line
	var teep json.RawMessage
	var err error
	for range 200 {
		if final, err = control.Call(context.Background(), sock, control.Request{Op: "teep", TAM: srv.URL}, func(l control.Line) {
			if l.TEEP != nil {
				teep = l.TEEP
			}
		}); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || final.Error != "" || final.Status == nil {
		t.Fatalf("teep: %v %+v", err, final)
	}
	var out broker.Outcome
	if err := json.Unmarshal(teep, &out); err != nil || out.Received != 1 || out.Sent != 1 || out.Reboot {
		t.Fatalf("outcome %s: %v", teep, err)
	}
	if slices.Contains(h.Ops(), ipc.OpReboot) {
		t.Fatal("rebooted after a session that staged nothing")
	}
	// Without a TAM, named or configured, the request is refused.
	final, err = control.Call(context.Background(), sock, control.Request{Op: "teep"}, nil)
	if err != nil || final.Error == "" {
		t.Fatalf("teep with no TAM: %v %+v", err, final)
	}
}
