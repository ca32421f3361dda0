//go:build linux

package device_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/world"
)

// smallFS mounts a tmpfs of its own for the test (root only) and returns
// its path.
func smallFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}

// fillFS takes every free page of the file system at dir and returns what
// gives them back.
func fillFS(t *testing.T, dir string) (release func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for _, n := range []int{64 << 10, 4 << 10, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "probe"), []byte{1}, 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the file system is not full: %v", err)
	}
	return func() { os.Remove(path); os.Remove(filepath.Join(dir, "probe")) }
}

// writePoints counts the writes the secure world makes to the device
// directory, through the flash and through the TPM, and calls full before
// the at-th one.
type writePoints struct {
	n, at int
	full  func()
}

func (w *writePoints) before() {
	w.n++
	if w.n == w.at {
		w.full()
	}
}

type countedFlash struct {
	boot.Flash
	w *writePoints
}

func (f countedFlash) Program(off int64, data []byte) error {
	f.w.before()
	return f.Flash.Program(off, data)
}
func (f countedFlash) EraseSector(off int64) error { f.w.before(); return f.Flash.EraseSector(off) }

type countedCounters struct {
	boot.Counters
	w *writePoints
}

func (c countedCounters) AdvanceCounterTo(comp boot.Component, v uint64) error {
	c.w.before()
	return c.Counters.AdvanceCounterTo(comp, v)
}

type countedStoreCounter struct {
	storage.Counter
	w *writePoints
}

func (c countedStoreCounter) AdvanceTo(v uint64) error { c.w.before(); return c.Counter.AdvanceTo(v) }

type countedPCR struct {
	boot.PCR
	w *writePoints
}

func (p countedPCR) Extend(d []byte) error { p.w.before(); return p.PCR.Extend(d) }

// diskFullRun is one operation on a device whose file system fills up
// before its at-th write (never, with at 0). It returns the number of
// writes, what the operation reported, and whether, after a crash and a
// restart with the space back, the device holds the operation's new state.
type diskFullOp struct {
	name string
	// run performs the operation on the secure world and returns its report.
	run func(t *testing.T, sec *world.Secure, dev *device.Device, signers *device.Signers) error
	// applied tells from the restarted device whether the operation's
	// change is there.
	applied func(t *testing.T, sec *world.Secure) bool
}

func diskFullRun(t *testing.T, fs string, op diskFullOp, at int) (writes int, applied bool, report error) {
	t.Helper()
	dir := filepath.Join(fs, "dev")
	defer os.RemoveAll(dir)
	dev, err := device.Init(context.Background(), dir, device.InitOptions{Layout: devicetest.Layout})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Reboot(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	signers, err := device.LoadSigners(dir)
	if err != nil {
		t.Fatal(err)
	}
	release := func() {}
	w := &writePoints{at: at, full: func() { release = fillFS(t, fs) }}
	hw := dev.Hardware()
	hw.Flash = countedFlash{hw.Flash, w}
	hw.Counters = countedCounters{hw.Counters, w}
	hw.PCR = countedPCR{hw.PCR, w}
	hw.StoreCounter = countedStoreCounter{hw.StoreCounter, w}
	sec, err := world.Assemble(hw, dev.Platform())
	if err != nil {
		t.Fatal(err)
	}
	report = op.run(t, sec, dev, signers)
	writes = w.n
	// A crash: whatever the process had not written to the directory is
	// lost (Close cannot save the TPM's NV or state.json while the file
	// system is full).
	dev.Close()
	release()

	dev, err = device.Open(dir)
	if err != nil {
		t.Fatalf("restart after a full disk at write %d: %v", at, err)
	}
	defer dev.Close()
	if _, err := dev.Reboot(context.Background(), nil); err != nil {
		t.Fatalf("boot after a full disk at write %d: %v", at, err)
	}
	sec, err = world.Assemble(dev.Hardware(), dev.Platform())
	if err != nil {
		t.Fatal(err)
	}
	return writes, op.applied(t, sec), report
}

// TestDiskFull fills the file system under the device directory before
// each write of a TA install and of a firmware stage in turn, crashes and
// restarts the device with the space back: the device comes up, holds the
// old state or the new one, and it is the new one exactly when the
// operation reported success. The writes, counted in a clean run with
// devicetest.Layout: N = 3 for the TA install (the bank's erase and
// program, the counter's advance), N = 9 for the stage (the slot's erases
// and programs, the counter raised to its own value, the journal's erase
// and start record).
func TestDiskFull(t *testing.T) {
	fs := smallFS(t)
	ctx := context.Background()
	hello := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	ops := []struct {
		op     diskFullOp
		writes int
	}{
		{diskFullOp{
			name: "TA install",
			run: func(t *testing.T, sec *world.Secure, _ *device.Device, signers *device.Signers) error {
				env, _, err := author.BuildDetached(&author.Manifest{SequenceNumber: 1, VendorID: device.VendorID, ClassID: device.ClassID,
					Components: []author.Component{{ID: hello, Payload: []byte("hello TA"), Integrate: true, Name: "ta"}}})
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Sign(signers.TAAuthors["acme"]); err != nil {
					t.Fatal(err)
				}
				svc, err := sec.Service()
				if err != nil {
					t.Fatal(err)
				}
				set, reqs, err := svc.StartUpdate(ctx, env.Encode())
				if err != nil {
					return err
				}
				if len(reqs) != 0 {
					t.Fatalf("an integrated TA asks for %d payloads", len(reqs))
				}
				return svc.Install(ctx, set)
			},
			applied: func(t *testing.T, sec *world.Secure) bool {
				_, ok := sec.Store.Lookup(hello)
				return ok
			},
		}, 3},
		{diskFullOp{
			name: "firmware stage",
			run: func(t *testing.T, sec *world.Secure, _ *device.Device, signers *device.Signers) error {
				st, err := signers.Release(boot.Normal, 2, device.BuiltinImage(boot.Normal, 2, 3000))
				if err != nil {
					t.Fatal(err)
				}
				return sec.Boot.Stage(ctx, []boot.Staged{st})
			},
			applied: func(t *testing.T, sec *world.Secure) bool {
				state, _, err := sec.Boot.Operation()
				if err != nil {
					t.Fatal(err)
				}
				// The restart's boot took a staged set into its trial.
				return state == "trial"
			},
		}, 9},
	}
	for _, tc := range ops {
		t.Run(tc.op.name, func(t *testing.T) {
			n, applied, report := diskFullRun(t, fs, tc.op, 0)
			if report != nil || !applied {
				t.Fatalf("clean run: %v, applied %v", report, applied)
			}
			if n != tc.writes {
				t.Fatalf("a clean run makes %d writes, the test expects %d", n, tc.writes)
			}
			failed := 0
			for at := 1; at <= n; at++ {
				_, applied, report := diskFullRun(t, fs, tc.op, at)
				if (report == nil) != applied {
					t.Errorf("full before write %d of %d: reported %v, but after a restart the change is applied=%v", at, n, report, applied)
				}
				if report != nil {
					failed++
				}
			}
			t.Logf("%s: %d writes, a full disk before each; %d reported failed (old state kept), %d reported done (new state)", tc.op.name, n, failed, n-failed)
		})
	}
}
