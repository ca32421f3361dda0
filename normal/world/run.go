package world

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/confine"
	"github.com/teeup/teeup/normal/control"
	"github.com/teeup/teeup/normal/fetch"
)

// Config is a normal world to run.
type Config struct {
	// Conn is the normal world's end of the channel to the secure world.
	Conn io.ReadWriteCloser
	// Shared, if set, is the region the chunks cross in, mapped writable.
	Shared *ipc.Shared
	// Socket is the path of the control socket; Listener, if set, is the
	// control socket already listening (a confined normal world cannot
	// make one: its supervisor passes it) and Socket is unused.
	Socket   string
	Listener net.Listener
	// HealthCmd, if set, is a shell command run to check a trial boot
	// (exit 0: accept) after the secure world's own check.
	HealthCmd string
	// Record, if set, records every byte crossing the channel
	// (OpenRecorder, before the process is confined).
	Record *Recorder
	// Confinement is what the process's confinement put in force, for
	// the status; nil: not confined.
	Confinement *confine.Report
	// Stdout and Stderr take the health command's output.
	Stdout, Stderr io.Writer
	// Log receives what the normal world does; nil discards it.
	Log *slog.Logger
	// TEEP, if set, runs the TEEP Broker with this TAM once the boot's
	// health check is done: a session at once, then on its interval and
	// whenever the TAM's long poll asks.
	TEEP *TEEP
}

// Run connects to the secure world, checks the boot's health, runs the
// TEEP Broker if configured, and serves the control socket until ctx
// ends. Run closes Conn.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn := cfg.Conn
	var sharedTap io.Writer // what goes into the shared region, recorded
	if cfg.Record != nil {
		tap := cfg.Record.tap(conn)
		conn, sharedTap = tap, tap.sent
	}
	// A halted secure world never answers the Hello: a stop must still
	// end the wait.
	unblock := context.AfterFunc(ctx, func() { conn.Close() })
	var client *ipc.Client
	var err error
	if cfg.Shared != nil {
		client, err = ipc.NewSharedClient(conn, cfg.Shared, sharedTap)
	} else {
		client, err = ipc.NewClient(conn)
	}
	if !unblock() {
		return nil // stopped while the secure world was halted
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("normal world: %w", err)
	}
	defer client.Close()
	dl, err := fetch.New(fetch.Config{})
	if err != nil {
		return err
	}
	say := func(s string) { log.Info(s) }
	a := &agent.Agent{SW: client, Fetch: dl, Progress: say}
	health, err := a.HealthCheck(ctx, func(ctx context.Context) error { return checkHealth(ctx, client, cfg) })
	var healthErr string
	if err != nil {
		log.Warn("health check", "err", err)
		healthErr = err.Error()
	}
	status := func(ctx context.Context) (json.RawMessage, error) {
		infos, err := client.Query(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(Status{PID: os.Getpid(), Health: health, HealthError: healthErr, Components: infos, Confinement: cfg.Confinement})
	}
	// The secure world takes one install set at a time: a local update
	// and a TEEP session take turns.
	var busy sync.Mutex
	if cfg.TEEP != nil {
		b, err := newBroker(client, *cfg.TEEP, &busy, nil, log)
		if err != nil {
			return fmt.Errorf("normal world: TEEP broker: %w", err)
		}
		bctx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		defer func() { stop(); <-stopped }()
		go func() { defer close(stopped); runBroker(bctx, b, client, &busy, log) }()
	}
	handle := control.Handler(func(ctx context.Context, req control.Request, send func(control.Line)) (json.RawMessage, error) {
		progress := func(s string) { send(control.Line{Progress: s}) }
		// ctx ends when the user gives up; a call to the secure world is
		// never abandoned half way, which would break the channel.
		sw := context.WithoutCancel(ctx)
		switch req.Op {
		case "status":
			return status(sw)
		case "device-status":
			st, err := client.DeviceStatus(sw)
			if err != nil {
				return nil, err
			}
			return json.Marshal(st)
		case "evidence":
			// Relayed as the secure world made it: the normal world
			// neither reads nor changes evidence, and holds no key.
			ev, err := client.Evidence(sw, req.Nonce)
			if err != nil {
				return nil, err
			}
			return json.Marshal(EvidenceAnswer{Evidence: ev})
		case "teep":
			both := func(s string) { say(s); progress(s) }
			return teepSession(ctx, req, cfg.TEEP, client, &busy, both, send, status, log)
		case "update":
			busy.Lock()
			defer busy.Unlock()
			a.Progress = func(s string) { say(s); progress(s) }
			defer func() { a.Progress = say }()
			a.Local = req.Local
			var envs [][]byte
			for _, src := range req.Envelopes {
				b, err := agent.ReadEnvelope(ctx, nil, src)
				if err != nil {
					return nil, err
				}
				envs = append(envs, b)
			}
			reboot, err := a.Update(ctx, envs)
			if err != nil {
				return nil, err
			}
			// The status the secure world reports now says which
			// components the set staged: after the reboot, they must
			// report UPDATED for the update to have been accepted.
			st, err := status(sw)
			if !reboot {
				return st, err
			}
			send(control.Line{Progress: "rebooting the device", Status: st}) // none if Query failed: unconfirmed
			return nil, client.Reboot(sw)
		}
		return nil, fmt.Errorf("unknown op %q", req.Op)
	})
	if cfg.Listener != nil {
		return control.ServeListener(ctx, cfg.Listener, handle)
	}
	return control.Serve(ctx, cfg.Socket, handle)
}

// checkHealth is the trial boot's health check: the secure world answers
// and every image verifies, then the operator's command, if any, passes.
func checkHealth(ctx context.Context, client *ipc.Client, cfg Config) error {
	infos, err := client.Query(ctx)
	if err != nil {
		return err
	}
	for _, in := range infos {
		if in.Digest == nil {
			return fmt.Errorf("component %q reports no verified image", in.ID)
		}
	}
	if cfg.HealthCmd == "" {
		return nil
	}
	// The operator's own command, given to `device run`, run as given.
	c := exec.CommandContext(ctx, "sh", "-c", cfg.HealthCmd) //nolint:gosec // G204: the operator's command by design

	c.Stdout, c.Stderr = cfg.Stdout, cfg.Stderr
	return c.Run()
}
