package device

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/confine"
	normalworld "github.com/teeup/teeup/normal/world"
)

// NormalOptions are the normal world's process options, from its
// supervisor.
type NormalOptions struct {
	HealthCmd string
	// RecordIPC is a wiretap's prefix (normal/world.OpenRecorder).
	RecordIPC string
	// Shared: the supervisor passed the shared region as SharedFD.
	Shared         bool
	Stdout, Stderr io.Writer
	// Probe, if set, runs before the process is confined and returns
	// what runs once it is, before the world reads any input: the
	// hostile normal world of a test. Only a test binary sets it.
	Probe func() (confined func())
	// NoSeccomp leaves the seccomp filter out, reported as missing: only
	// a test binary sets it, to measure what the filter costs.
	NoSeccomp bool
	// TEEP, if set, runs the TEEP Broker with this TAM (its certificate
	// read before the process is confined).
	TEEP *normalworld.TEEP
}

// RunNormalWorld is the normal world's process under its supervisor. It
// takes what it needs from its descriptors (its end of the channel, the
// shared region, the control socket; its working directory is its
// spool), confines itself (normal/confine) and tells its supervisor what
// is in force, then runs the normal world. It is never told the device
// directory.
func RunNormalWorld(ctx context.Context, log *slog.Logger, opts NormalOptions) error {
	conn := os.NewFile(IPCFD, "ipc")
	fail := func(err error) error { conn.Close(); return fmt.Errorf("normal world: %w", err) }
	var shared *ipc.Shared
	if opts.Shared {
		f := os.NewFile(SharedFD, "ipc-shared")
		var err error
		shared, err = ipc.MapShared(f, true)
		f.Close()
		if err != nil {
			return fail(err)
		}
	}
	lf := os.NewFile(ControlFD, "control")
	ln, err := net.FileListener(lf)
	lf.Close()
	if err != nil {
		return fail(fmt.Errorf("control socket: %w", err))
	}
	var rec *normalworld.Recorder
	if opts.RecordIPC != "" {
		if rec, err = normalworld.OpenRecorder(opts.RecordIPC); err != nil {
			return fail(err)
		}
	}
	var confined func()
	if opts.Probe != nil {
		confined = opts.Probe()
	}
	report, err := confine.Apply(confine.Policy{Spool: ".", UID: confine.Nobody, GID: confine.Nobody, NoSeccomp: opts.NoSeccomp})
	if err != nil {
		return fail(err) // half confined: it must not go on
	}
	// The kernel clears the parent death signal when the user changes:
	// arm it again, then check the supervisor did not die in between.
	if err := rearmParentDeath(); err != nil {
		return fail(err)
	}
	if err := CheckSupervisor(); err != nil {
		return fail(err)
	}
	tellConfinement(log, report)
	if confined != nil {
		confined()
	}
	return normalworld.Run(ctx, normalworld.Config{Conn: conn, Shared: shared, Listener: ln,
		HealthCmd: opts.HealthCmd, Record: rec, Confinement: report, TEEP: opts.TEEP,
		Stdout: opts.Stdout, Stderr: opts.Stderr, Log: log})
}

// tellConfinement logs what is in force and writes it, as JSON, on
// ConfineFD for the supervisor to check.
func tellConfinement(log *slog.Logger, r *confine.Report) {
	if missing := r.Missing(); len(missing) > 0 {
		log.Warn("confined, with measures missing", "missing", missing, "report", r.String())
	} else {
		log.Info("confined", "report", r.String())
	}
	f := os.NewFile(ConfineFD, "confinement")
	if f == nil {
		return
	}
	if err := json.NewEncoder(f).Encode(r); err != nil {
		log.Warn("confinement not reported to the supervisor", "err", err)
	}
	f.Close()
}
