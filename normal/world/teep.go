package world

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/control"
)

// TEEP is what the normal world's TEEP Broker is given: the TAM it asks
// for updates and what it trusts of it.
type TEEP struct {
	// TAM is the TAM's base URL.
	TAM string
	// CAPEM, if set, holds the certificates trusted for the TAM (its
	// self-signed one); else the system's roots.
	CAPEM []byte
	// DeviceID is the device's ID at the TAM (the lowercase hex of the
	// Agent key's RFC 9679 thumbprint), for the long poll; empty: no
	// long poll.
	DeviceID string
	// Poll is the time between sessions; 0: broker.DefaultPollInterval.
	Poll time.Duration
}

// newBroker makes the broker of t over client, holding lock for each
// session.
func newBroker(client *ipc.Client, t TEEP, lock sync.Locker, progress func(string), log *slog.Logger) (*broker.Broker, error) {
	cfg := broker.Config{TAM: t.TAM, SW: client, DeviceID: t.DeviceID, PollInterval: t.Poll,
		Lock: lock, Progress: progress, Log: log}
	if len(t.CAPEM) > 0 {
		tlsCfg, err := broker.TLSConfig(t.CAPEM)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsCfg
	}
	return broker.New(cfg)
}

// errReboot ends the broker's loop after a session that staged firmware.
var errReboot = errors.New("a TEEP session staged an install set")

// runBroker runs b's sessions until ctx ends, or until a session staged
// an install set: then it asks the secure world to reset the device,
// which applies the set; the health check of the next boot accepts it,
// and the next session shows the TAM the new versions. It holds lock
// from the end of that session to the reset, so that no local update
// slips in between.
func runBroker(ctx context.Context, b *broker.Broker, client *ipc.Client, lock sync.Locker, log *slog.Logger) {
	err := b.Run(ctx, func(out *broker.Outcome, err error) error {
		if out.Reboot {
			lock.Lock()
			return errReboot
		}
		return nil
	})
	if !errors.Is(err, errReboot) {
		return
	}
	defer lock.Unlock()
	log.Info("rebooting the device to apply the install set a TEEP session staged")
	if err := client.Reboot(context.WithoutCancel(ctx)); err != nil {
		log.Error("the secure world did not reboot", "err", err)
	}
}

// teepSession runs one TEEP session for a control request: with the TAM
// it names, or else the one the normal world was started with. It sends
// the session's outcome on a line; when the session staged an install
// set, it sends the status that says which components, and has the
// secure world reboot the device.
func teepSession(ctx context.Context, req control.Request, cfg *TEEP, client *ipc.Client, lock sync.Locker,
	say func(string), send func(control.Line), status func(context.Context) (json.RawMessage, error), log *slog.Logger) (json.RawMessage, error) {
	var t TEEP
	if cfg != nil {
		t = *cfg
	}
	if req.TAM != "" {
		t.TAM, t.CAPEM = req.TAM, req.TAMCA
	}
	if t.TAM == "" {
		return nil, ErrNoTAM
	}
	b, err := newBroker(client, t, lock, say, log)
	if err != nil {
		return nil, err
	}
	out, err := b.Session(ctx)
	if j, jerr := json.Marshal(out); jerr == nil {
		send(control.Line{TEEP: j})
	}
	sw := context.WithoutCancel(ctx)
	if !out.Reboot {
		if err != nil {
			return nil, err
		}
		return status(sw)
	}
	if err != nil {
		// The Agent committed the set: it applies at the next reset
		// whatever became of the rest of the session.
		say("the session failed after the Agent staged its install set (" + err.Error() + "); the TAM sees the new versions at the next session")
	}
	st, _ := status(sw) // none if Query failed: unconfirmed
	lock.Lock()
	defer lock.Unlock()
	send(control.Line{Progress: "rebooting the device", Status: st})
	return nil, client.Reboot(sw)
}

// ErrNoTAM: a teep request names no TAM, and the normal world was
// started with none.
var ErrNoTAM = errors.New("no TAM: give its URL")
