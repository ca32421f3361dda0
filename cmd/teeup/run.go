package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/control"
	"github.com/teeup/teeup/normal/fetch"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
)

const controlSocket = "normal.sock"

// ipcFD is the file descriptor of a world's end of the socket pair.
const ipcFD = 3

func deviceRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device run", flag.ContinueOnError)
	dir := dirFlag(fs)
	health := fs.String("health-cmd", "", "command the normal world runs to check a trial (exit 0: accept); default: the secure world answers and every image verifies")
	record := fs.String("record-ipc", "", "append every byte crossing ipc to FILE.to-secure and FILE.to-normal")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *dir == "" {
		return usageError("device run: need --dir")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &device.Supervisor{Dir: *dir, Exe: exe, Stdout: stdout, Stderr: stderr}
	if *health != "" {
		s.NormalArgs = append(s.NormalArgs, "--health-cmd", *health)
	}
	if *record != "" {
		abs, err := filepath.Abs(*record)
		if err != nil {
			return err
		}
		s.NormalArgs = append(s.NormalArgs, "--record-ipc", abs)
	}
	fmt.Fprintf(stdout, "device %s running: secure world and normal world; stop with Ctrl-C\n", *dir)
	return s.Run(ctx)
}

// deviceSecureWorld is the secure world's process: it alone opens the
// flash and the TPM. It runs the bootloader, then serves the normal world.
func deviceSecureWorld(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device secure-world", flag.ContinueOnError)
	dir := dirFlag(fs)
	withShared := fs.Bool("ipc-shared", false, "")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	conn := os.NewFile(ipcFD, "ipc")
	shared, err := mapShared(*withShared, false)
	if err != nil {
		return fmt.Errorf("secure world: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// A device halts on a store that does not authenticate (tampered,
	// or written back from an earlier copy) or a boot that fails: it
	// does nothing until the power goes. Its end of the channel stays
	// open and unanswered, so that the normal world waits rather than
	// exits, which would reset the device into the same halt again.
	halt := func(why string, err error) error {
		fmt.Fprintf(stderr, "%s, the device halts: %v\n", why, err)
		<-ctx.Done()
		conn.Close()
		return nil
	}
	d, err := device.Open(*dir)
	if errors.Is(err, storage.ErrTampered) || errors.Is(err, storage.ErrNoStore) {
		return halt("secure storage refused", err)
	}
	if err != nil {
		return err
	}
	res, err := d.Reboot(ctx, nil)
	if err != nil {
		d.Close()
		return halt("boot failed", err)
	}
	printBoot(stdout, res)
	// device.Open read the trust policy from the same storage: it opens.
	svc, err := d.UpdateService()
	if err != nil {
		d.Close()
		conn.Close()
		return fmt.Errorf("secure world: secure storage: %w", err)
	}
	h := &service.Handler{FWU: svc}
	err = ipc.ServeShared(ctx, conn, h, shared)
	if cerr := d.Close(); cerr != nil {
		fmt.Fprintf(stderr, "close: %v\n", cerr)
	}
	if errors.Is(err, ipc.ErrReboot) {
		os.Exit(device.ExitReboot)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("secure world: %w", err)
	}
	return nil
}

// mapShared maps the shared region the supervisor passed as
// device.SharedFD, if it passed one: writable for the normal world,
// read-only for the secure world.
func mapShared(passed, writable bool) (*ipc.Shared, error) {
	if !passed {
		return nil, nil
	}
	f := os.NewFile(device.SharedFD, "ipc-shared")
	defer f.Close()
	return ipc.MapShared(f, writable)
}

// normalStatus is what the normal world reports on its control socket.
type normalStatus struct {
	PID        int                 `json:"pid"`
	Health     string              `json:"health,omitempty"`
	Components []ipc.ComponentInfo `json:"components"`
}

// deviceNormalWorld is the normal world's process: its end of the socket
// pair is all it has of the device.
func deviceNormalWorld(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device normal-world", flag.ContinueOnError)
	dir := dirFlag(fs)
	healthCmd := fs.String("health-cmd", "", "")
	record := fs.String("record-ipc", "", "")
	withShared := fs.Bool("ipc-shared", false, "")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	shared, err := mapShared(*withShared, true)
	if err != nil {
		return fmt.Errorf("normal world: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	var conn io.ReadWriteCloser = os.NewFile(ipcFD, "ipc")
	var sharedTap io.Writer // what goes into the shared region, recorded
	if *record != "" {
		tap, err := newWiretap(conn, *record)
		if err != nil {
			return err
		}
		conn, sharedTap = tap, tap.sent
	}
	// A halted secure world never answers the Hello: a stop must still
	// end the wait.
	unblock := context.AfterFunc(ctx, func() { conn.Close() })
	var client *ipc.Client
	if shared != nil {
		client, err = ipc.NewSharedClient(conn, shared, sharedTap)
	} else {
		client, err = ipc.NewClient(conn)
	}
	if !unblock() {
		return nil // stopped while the secure world was halted
	}
	if err != nil {
		return fmt.Errorf("normal world: %w", err)
	}
	defer client.Close()
	dl, err := fetch.New(fetch.Config{})
	if err != nil {
		return err
	}
	say := func(s string) { fmt.Fprintln(stdout, s) }
	a := &agent.Agent{SW: client, Fetch: dl, Progress: say}
	check := func(ctx context.Context) error {
		infos, err := client.Query(ctx)
		if err != nil {
			return err
		}
		for _, in := range infos {
			if in.Digest == nil {
				return fmt.Errorf("component %q reports no verified image", in.ID)
			}
		}
		if *healthCmd != "" {
			c := exec.CommandContext(ctx, "sh", "-c", *healthCmd)
			c.Stdout, c.Stderr = stdout, stderr
			return c.Run()
		}
		return nil
	}
	health, err := a.HealthCheck(ctx, check)
	if err != nil {
		fmt.Fprintf(stderr, "health check: %v\n", err)
	}
	return control.Serve(ctx, filepath.Join(*dir, controlSocket), func(ctx context.Context, req control.Request, progress func(string)) (json.RawMessage, error) {
		switch req.Op {
		case "status":
			infos, err := client.Query(ctx)
			if err != nil {
				return nil, err
			}
			return json.Marshal(normalStatus{PID: os.Getpid(), Health: health, Components: infos})
		case "update":
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
			if !reboot {
				infos, err := client.Query(ctx)
				if err != nil {
					return nil, err
				}
				return json.Marshal(normalStatus{PID: os.Getpid(), Health: health, Components: infos})
			}
			progress("rebooting the device")
			return nil, client.Reboot(ctx)
		}
		return nil, fmt.Errorf("unknown op %q", req.Op)
	})
}

func deviceUpdate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device update", flag.ContinueOnError)
	dir := dirFlag(fs)
	var payloads listFlag
	fs.Var(&payloads, "payload", "URI=FILE: a payload the normal world has as a file; repeatable")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the update and the reboot")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) == 0 || *dir == "" {
		return usageError("device update: need --dir and at least one envelope file or URI")
	}
	req := control.Request{Op: "update", Local: map[string]string{}}
	for _, p := range pos {
		if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
			if p, err = filepath.Abs(p); err != nil {
				return err
			}
		}
		req.Envelopes = append(req.Envelopes, p)
	}
	for _, p := range payloads {
		uri, file, ok := strings.Cut(p, "=")
		if !ok {
			return usageError("device update: --payload takes URI=FILE")
		}
		if req.Local[uri], err = filepath.Abs(file); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	sock := filepath.Join(*dir, controlSocket)
	before, err := normalWorldStatus(ctx, sock)
	if err != nil {
		return fmt.Errorf("device update: is the device running (teeup device run --dir %s)? %w", *dir, err)
	}
	final, err := control.Call(ctx, sock, req, func(l control.Line) { fmt.Fprintln(stdout, l.Progress) })
	if err != nil && !strings.Contains(err.Error(), "hung up") {
		return err
	}
	if final != nil && final.Error != "" {
		return fmt.Errorf("update: %s", final.Error)
	}
	if final != nil && final.Status != nil {
		// Installed with no reboot: TAs.
		var now normalStatus
		if err := json.Unmarshal(final.Status, &now); err != nil {
			return err
		}
		printComponents(stdout, now.Components)
		return nil
	}
	fmt.Fprintln(stdout, "waiting for the device to reboot")
	var after *normalStatus
	for {
		if after, err = normalWorldStatus(ctx, sock); err == nil && after.PID != before.PID {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("device update: the device did not come back: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	switch after.Health {
	case "accepted":
		fmt.Fprintln(stdout, "trial boot: health check passed, update accepted")
	case "rejected":
		fmt.Fprintln(stdout, "trial boot: health check failed, update rejected; the old images return at the next reboot")
	default:
		fmt.Fprintln(stdout, "the device did not boot the update in trial")
	}
	printComponents(stdout, after.Components)
	if after.Health != "accepted" {
		return errors.New("update not accepted")
	}
	return nil
}

// printComponents lists components as the normal world reports them: an
// image by its name, a TA by its whole ID.
func printComponents(w io.Writer, infos []ipc.ComponentInfo) {
	for _, c := range infos {
		name := suit.ComponentID(c.ID).String()
		if len(c.ID) == 1 {
			name = string(c.ID[0])
		}
		fmt.Fprintf(w, "%s: %s, sequence %d\n", name, c.State, c.SequenceNumber)
	}
}

func normalWorldStatus(ctx context.Context, sock string) (*normalStatus, error) {
	final, err := control.Call(ctx, sock, control.Request{Op: "status"}, nil)
	if err != nil {
		return nil, err
	}
	if final.Error != "" {
		return nil, errors.New(final.Error)
	}
	var st normalStatus
	return &st, json.Unmarshal(final.Status, &st)
}

func deviceKill(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device kill", flag.ContinueOnError)
	dir := dirFlag(fs)
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *dir == "" {
		return usageError("device kill: need --dir")
	}
	if err := device.PowerCut(*dir); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "power cut: both worlds stopped at once; the device boots again")
	return nil
}
