package world_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/control"
	"github.com/teeup/teeup/normal/world"
)

// TestRunAnswersStatus: the normal world connects to the secure world,
// runs the health check of a confirmed boot (none to decide) and answers
// the operator's status on its control socket with what the secure world
// reports; it stops when told.
func TestRunAnswersStatus(t *testing.T) {
	r := devicetest.New(t)
	sock := filepath.Join(t.TempDir(), "normal.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- world.Run(ctx, world.Config{Conn: r.Serve(nil), Socket: sock}) }()
	var line *control.Line
	var err error
	for range 200 {
		if line, err = control.Call(context.Background(), sock, control.Request{Op: "status"}, nil); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || line.Error != "" {
		t.Fatalf("status: %v %+v", err, line)
	}
	var st world.Status
	if err := json.Unmarshal(line.Status, &st); err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || len(st.Components) != 2 || st.Components[0].SequenceNumber != 1 {
		t.Fatalf("status %+v", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after stop = %v", err)
	}
}

// TestRunStopsWhileSecureWorldSilent: a secure world that never answers
// the hello (it halted) does not keep the normal world from stopping.
func TestRunStopsWhileSecureWorldSilent(t *testing.T) {
	t.Parallel()
	normal, secure := ipctest.Pipe()
	defer secure.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- world.Run(ctx, world.Config{Conn: normal, Socket: filepath.Join(t.TempDir(), "normal.sock")})
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want a clean stop", err)
	}
}
