package world_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/world"
)

// countingSealer counts the unseals of the storage's root key.
type countingSealer struct {
	storage.Sealer
	unseals atomic.Int32
}

func (c *countingSealer) Unseal(blob []byte) ([]byte, error) {
	c.unseals.Add(1)
	return c.Sealer.Unseal(blob)
}

// TestRunServesAndUnsealsOnce: the secure world boots, answers the normal
// world, and ends with ErrReboot when asked for a reset, having unsealed
// its storage's root key once for the whole power-on.
func TestRunServesAndUnsealsOnce(t *testing.T) {
	r := devicetest.New(t)
	hw := r.Dev.Hardware()
	sealer := &countingSealer{Sealer: hw.Sealer}
	hw.Sealer = sealer
	normal, secure := ipctest.Pipe()
	var booted *boot.Result
	done := make(chan error, 1)
	go func() {
		done <- world.Run(context.Background(), world.Config{Hardware: hw, Platform: r.Dev.Platform(), Conn: secure,
			Booted: func(res *boot.Result, err error) { booted = res }})
	}()
	c, err := ipc.NewClient(normal)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	infos, err := c.Query(context.Background())
	if err != nil || len(infos) != 2 {
		t.Fatalf("query: %v %v", infos, err)
	}
	if err := c.Reboot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ipc.ErrReboot) {
		t.Fatalf("Run = %v, want ErrReboot", err)
	}
	if booted == nil || len(booted.Images) != 2 {
		t.Fatalf("Booted was told %+v", booted)
	}
	if n := sealer.unseals.Load(); n != 1 {
		t.Fatalf("the root key was unsealed %d times in one power-on, want 1", n)
	}
}

// TestRunHaltsOnStorageFault: a secure storage region that no longer
// authenticates halts the secure world with ErrHalt and says why, before
// it boots or answers anything.
func TestRunHaltsOnStorageFault(t *testing.T) {
	r := devicetest.New(t)
	region := world.StoreRegion(r.Dev.Config.Layout)
	for bank := range 2 {
		off := region.Off + int64(bank*region.BankSectors*region.SectorSize)
		if err := r.Dev.Flash.EraseSector(off); err != nil {
			t.Fatal(err)
		}
	}
	normal, secure := ipctest.Pipe()
	defer normal.Close()
	booted := false
	err := world.Run(context.Background(), world.Config{Hardware: r.Dev.Hardware(), Platform: r.Dev.Platform(), Conn: secure,
		Booted: func(*boot.Result, error) { booted = true }})
	var halt *world.HaltError
	if !errors.Is(err, world.ErrHalt) || !errors.As(err, &halt) || halt.Why != "secure storage refused" {
		t.Fatalf("Run = %v, want a halt: secure storage refused", err)
	}
	if booted {
		t.Fatal("the secure world booted on a storage that does not authenticate")
	}
}
