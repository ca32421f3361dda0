package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/teeup/teeup/ipc"
)

// device is a secure world with one component and no update in progress.
type device struct{}

func (device) Query(context.Context) ([]ipc.ComponentInfo, error) {
	return []ipc.ComponentInfo{{ID: [][]byte{[]byte("normal")}, State: ipc.StateReady, SequenceNumber: 3}}, nil
}
func (device) StartUpdate(context.Context, []byte) (*ipc.StartResult, error) {
	return nil, ipc.Errorf(ipc.Rejected, "envelope signature")
}
func (device) WriteChunk(context.Context, uint64, uint32, uint64, []byte) error {
	return ipc.ErrNotFound
}
func (device) Finish(context.Context, uint64, uint32) error { return ipc.ErrNotFound }
func (device) Install(context.Context, uint64) error        { return ipc.ErrNotFound }
func (device) Accept(context.Context) error {
	return fmt.Errorf("accept: %w", ipc.ErrBadState)
}
func (device) Reject(context.Context) error         { return ipc.ErrBadState }
func (device) Reboot(context.Context) error         { return nil }
func (device) Cancel(context.Context, uint64) error { return nil }
func (device) Clean(context.Context) error          { return nil }
func (device) DeviceStatus(context.Context) (*ipc.DeviceStatusResult, error) {
	return nil, ipc.ErrUnsupported
}
func (device) RelayTEEP(context.Context, []byte) (*ipc.RelayTEEPResult, error) {
	return nil, ipc.ErrUnsupported
}
func (device) Evidence(context.Context, []byte) ([]byte, error) {
	return nil, ipc.ErrUnsupported
}

// The normal world calls the secure world through a Client; the secure
// world answers through Serve and a Handler. In a device the two ends are
// a Unix socket pair between two processes; here, a Pipe.
func Example() {
	ctx := context.Background()
	normal, secure := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- ipc.Serve(ctx, secure, device{}) }()

	c, err := ipc.NewClient(normal)
	if err != nil {
		fmt.Println(err)
		return
	}
	components, err := c.Query(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ci := range components {
		fmt.Printf("%s %s seq %d\n", ci.ID[0], ci.State, ci.SequenceNumber)
	}

	_, err = c.StartUpdate(ctx, []byte("not an envelope"))
	fmt.Println(err)
	fmt.Println(errors.Is(err, ipc.ErrRejected), errors.Is(err, ipc.ErrSecure))

	err = c.Accept(ctx)
	fmt.Println(err, errors.Is(err, ipc.ErrBadState))

	c.Close()
	fmt.Println("serve:", <-done)
	// Output:
	// normal READY seq 3
	// ipc: secure: rejected: envelope signature
	// true true
	// ipc: secure: bad state: accept true
	// serve: <nil>
}
