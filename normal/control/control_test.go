package control

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServeAndCall(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "c.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, sock, func(ctx context.Context, req Request, send func(Line)) (json.RawMessage, error) {
			switch req.Op {
			case "update":
				for _, e := range req.Envelopes {
					send(Line{Progress: "forwarding " + e})
				}
				return nil, errors.New("refused by the secure world")
			}
			return json.RawMessage(`{"ok":true}`), nil
		})
	}()
	var final *Line
	var err error
	for i := 0; i < 100; i++ {
		if final, err = Call(ctx, sock, Request{Op: "status"}, nil); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || string(final.Status) != `{"ok":true}` || final.Error != "" {
		t.Fatalf("status: %+v, %v", final, err)
	}
	var progress []string
	final, err = Call(ctx, sock, Request{Op: "update", Envelopes: []string{"a.suit", "b.suit"}}, func(l Line) { progress = append(progress, l.Progress) })
	if err != nil || final.Error != "refused by the secure world" || len(progress) != 2 || progress[1] != "forwarding b.suit" {
		t.Fatalf("update: %+v %v %q", final, err, progress)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestCallHungUp: a normal world that closes the connection before its
// final line (it stopped, or the device reset) is ErrHungUp.
func TestCallHungUp(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "c.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		json.NewEncoder(c).Encode(Line{Progress: "rebooting the device"})
		c.Close()
	}()
	var progress []string
	_, err = Call(context.Background(), sock, Request{Op: "update"}, func(l Line) { progress = append(progress, l.Progress) })
	if !errors.Is(err, ErrHungUp) || len(progress) != 1 {
		t.Fatalf("Call = %v after %q, want ErrHungUp after one line", err, progress)
	}
}

// TestCallCancelled: when the caller's ctx ends (Ctrl-C), the request's
// ctx ends in the normal world, and the caller still gets the final line
// that says how the request ended.
func TestCallCancelled(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "c.sock")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	started := make(chan struct{})
	go Serve(ctx, sock, func(ctx context.Context, req Request, send func(Line)) (json.RawMessage, error) {
		send(Line{Progress: "started"})
		close(started)
		<-ctx.Done()
		return nil, errors.New("update cancelled")
	})
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	callCtx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	final, err := Call(callCtx, sock, Request{Op: "update"}, nil)
	if err != nil || final.Error != "update cancelled" {
		t.Fatalf("Call = %+v, %v; want the final line saying the update was cancelled", final, err)
	}
}
