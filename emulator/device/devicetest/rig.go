// Package devicetest is the test kit of an emulated device: one rig, a
// development device in a test's temporary directory whose secure world
// is assembled by secure/world as in a real boot, that a test power-cycles
// and whose update service it drives directly or, as a normal world does,
// over an ipc channel. Tests of fwu, service and the agent share it
// rather than build their own.
//
// Trust: it is for tests only. It holds the device's development signing
// keys, and it reaches into the secure world a test plays against.
package devicetest

import (
	"context"
	"net"
	"testing"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/suit"
)

// Layout is a small flash layout that keeps tests fast.
var Layout = boot.Layout{SectorSize: 2048, WriteAlign: 16, SlotSectors: 4}

// Rig is a development device with factory images at sequence number 1,
// booted once. It is not safe for concurrent use.
type Rig struct {
	t       testing.TB
	Dir     string
	Dev     *device.Device
	Signers *device.Signers
	stop    func()
}

// New makes a rig with Layout and boots it. The device closes when the
// test ends.
func New(t testing.TB) *Rig { return NewWith(t, Layout) }

// NewWith is New with a flash layout.
func NewWith(t testing.TB, layout boot.Layout) *Rig {
	t.Helper()
	return NewFrom(t, device.InitOptions{Layout: layout})
}

// NewWithTAMs is NewWith for a device whose TEEP Agent answers the TAMs
// of tamKeys.
func NewWithTAMs(t testing.TB, layout boot.Layout, tamKeys ...*suit.Key) *Rig {
	t.Helper()
	return NewFrom(t, device.InitOptions{Layout: layout, TAMKeys: tamKeys})
}

// NewFrom is New with the device's factory contents; its signers are
// development keys.
func NewFrom(t testing.TB, opts device.InitOptions) *Rig {
	t.Helper()
	dir := t.TempDir()
	d, err := device.Init(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &Rig{t: t, Dir: dir, Dev: d}
	t.Cleanup(func() {
		r.stopServing()
		d.Close()
	})
	if r.Signers, err = device.LoadSigners(dir); err != nil {
		t.Fatal(err)
	}
	r.Reboot()
	return r
}

// Reboot power-cycles the device: a session served by Serve ends, the
// secure world is assembled again and the bootloader runs.
func (r *Rig) Reboot() *boot.Result {
	r.t.Helper()
	r.stopServing()
	res, err := r.Dev.Reboot(context.Background(), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// Service is a new update service of the secure world of this boot, as
// the secure world's process builds once per boot.
func (r *Rig) Service() *fwu.Service {
	r.t.Helper()
	svc, err := r.Dev.Service()
	if err != nil {
		r.t.Fatal(err)
	}
	return svc
}

// Serve serves a new update service of this boot, with its TEEP Agent
// when the device trusts a TAM, on one end of an in-memory ipc channel
// (the chunks' data in shared, if set) and returns the normal world's
// end, as the secure world's process serves its one session. The session
// ends at the next Reboot or Serve, or when the test ends.
func (r *Rig) Serve(shared *ipc.Shared) net.Conn {
	r.t.Helper()
	r.stopServing()
	normal, secure := ipctest.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	ev, err := r.Dev.Secure.Evidence()
	if err != nil {
		r.t.Fatal(err)
	}
	svc := r.Service()
	agent, err := r.Dev.Secure.Agent(svc, ev)
	if err != nil {
		r.t.Fatal(err)
	}
	h := &service.Handler{FWU: svc, Boot: r.Dev.Boot, Store: r.Dev.Store, Attest: ev, Agent: agent}
	go func() {
		_ = ipc.ServeShared(ctx, secure, h, shared) // ends when the rig stops the channel; the tests read the outcome on the client's side
		close(done)
	}()
	r.stop = func() { cancel(); normal.Close(); <-done }
	return normal
}

func (r *Rig) stopServing() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}

// Release is a signed image of component c at sequence number seq, of
// size bytes, signed as the device's policy wants it.
func (r *Rig) Release(c boot.Component, seq uint64, size int) boot.Staged {
	r.t.Helper()
	s, err := r.Signers.Release(c, seq, device.BuiltinImage(c, seq, size))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}
