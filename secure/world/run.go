package world

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/storage"
)

// Config is a secure world to run.
type Config struct {
	Hardware Hardware
	Platform Platform
	// Conn is the secure world's end of the channel to the normal world.
	Conn io.ReadWriteCloser
	// Shared, if set, is the region the normal world puts chunks in,
	// mapped read-only.
	Shared *ipc.Shared
	// Log receives what the secure world does; nil discards it.
	Log *slog.Logger
	// Booted, if set, learns what the bootloader did before the world
	// serves (the emulator keeps it for an offline device status).
	Booted func(*boot.Result, error)
}

// Run assembles the secure world on its hardware, boots and serves the
// normal world until ctx ends (nil), the normal world's session fails
// (that error), a reset is due (an error that errors.Is ipc.ErrReboot,
// after an install set was committed or the normal world asked for one),
// or a fault halts the device (an error that errors.Is ErrHalt: the
// secure storage does not authenticate or does not open, or the boot
// failed). Run closes Conn.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	defer cfg.Conn.Close()
	sw, err := Assemble(cfg.Hardware, cfg.Platform)
	if errors.Is(err, storage.ErrTampered) || errors.Is(err, storage.ErrNoStore) {
		return halt(log, "secure storage refused", err)
	}
	if err != nil {
		return halt(log, "secure storage does not open", err)
	}
	res, err := sw.Boot.Boot(ctx)
	if cfg.Booted != nil {
		cfg.Booted(res, err)
	}
	if err != nil {
		return halt(log, "boot failed", err)
	}
	logBoot(log, res)
	svc, err := sw.Service()
	if err != nil {
		return halt(log, "secure storage does not open", err)
	}
	ev, err := sw.Evidence()
	if err != nil {
		return halt(log, "secure storage does not open", err)
	}
	agent, err := sw.Agent(svc, ev)
	if err != nil {
		return halt(log, "secure storage does not open", err)
	}
	err = ipc.ServeShared(ctx, cfg.Conn, &service.Handler{FWU: svc, Boot: sw.Boot, Store: sw.Store, Attest: ev, Agent: agent}, cfg.Shared)
	switch {
	case errors.Is(err, ipc.ErrReboot):
		log.Info("reset requested")
		return err
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("secure world: %w", err)
	}
	return nil
}

// halt is the halt policy: a device whose store does not authenticate or
// open, or whose boot fails, stops and says why; whoever runs it must not
// start it again into the same fault.
func halt(log *slog.Logger, why string, err error) error {
	log.Error(why+", the device halts", "err", err)
	return Halt(why, err)
}

// logBoot says what the bootloader booted.
func logBoot(log *slog.Logger, res *boot.Result) {
	if res.Outcome != boot.OutcomeNone {
		log.Info("install set", "outcome", res.Outcome)
	}
	if res.Refused != nil {
		log.Warn("refused", "err", res.Refused)
	}
	for _, img := range res.Images {
		log.Info("booted", "component", img.Component, "sequence", img.SequenceNumber,
			"sha256", fmt.Sprintf("%x", img.ImageDigest[:8]), "size", img.Size)
	}
	log.Info("boot done", "trial", res.Trial, "measurements", len(res.Events), "pcr", boot.MeasurementPCR)
}
