package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/suit"
	secureworld "github.com/teeup/teeup/secure/world"
)

const controlSocket = "normal.sock"

func deviceRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device run", flag.ContinueOnError)
	dir := dirFlag(fs)
	health := fs.String("health-cmd", "", "command the normal world runs to check a trial (exit 0: accept); default: the secure world answers and every image verifies")
	record := fs.String("record-ipc", "", "append every byte crossing ipc to FILE.to-secure and FILE.to-normal")
	level := fs.String("log-level", "", "debug, info, warn or error: the level of the device's logs on stderr (default: $"+device.LogLevelEnv+", else info)")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *dir == "" {
		return usageError("device run: need --dir")
	}
	log, err := device.NewLog(stderr, *level)
	if err != nil {
		return usageError("device run: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	s := &device.Supervisor{Dir: *dir, Exe: exe, Stdout: stdout, Stderr: stderr, Log: log, LogLevel: *level}
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
// flash and the TPM, and hands them to secure/world.
func deviceSecureWorld(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("device secure-world", flag.ContinueOnError)
	dir := dirFlag(fs)
	withShared := fs.Bool("ipc-shared", false, "")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	return runWorld(stderr, func(ctx context.Context, log *slog.Logger) error {
		conn := os.NewFile(device.IPCFD, "ipc")
		shared, err := mapShared(*withShared, false)
		if err != nil {
			conn.Close()
			return fmt.Errorf("secure world: %w", err)
		}
		d, err := device.OpenHardware(*dir)
		if err != nil {
			conn.Close()
			log.Error("the hardware does not open, the device halts", "err", err)
			return secureworld.Halt("the hardware does not open", err)
		}
		err = secureworld.Run(ctx, secureworld.Config{Hardware: d.Hardware(), Platform: d.Platform(),
			Conn: conn, Shared: shared, Log: log, Booted: d.RecordBoot})
		if cerr := d.Close(); cerr != nil {
			log.Warn("close", "err", cerr)
		}
		return err
	})
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
type normalStatus = normalworld.Status

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
	return runWorld(stderr, func(ctx context.Context, log *slog.Logger) error {
		conn := os.NewFile(device.IPCFD, "ipc")
		shared, err := mapShared(*withShared, true)
		if err != nil {
			conn.Close()
			return fmt.Errorf("normal world: %w", err)
		}
		return normalworld.Run(ctx, normalworld.Config{Conn: conn, Shared: shared,
			Socket: filepath.Join(*dir, controlSocket), HealthCmd: *healthCmd, RecordIPC: *record,
			Stdout: stdout, Stderr: stderr, Log: log})
	})
}

// runWorld runs a world's process under its supervisor: it leaves if the
// supervisor is gone, leaves the terminal's signals to the supervisor
// (which stops the worlds in order with SIGTERM), logs on stderr at the
// level the supervisor passed, and exits with the status that tells the
// supervisor how the world ended (device.ExitCode).
func runWorld(stderr io.Writer, run func(context.Context, *slog.Logger) error) error {
	if err := device.CheckSupervisor(); err != nil {
		return err
	}
	signal.Ignore(os.Interrupt, syscall.SIGHUP)
	log, err := device.NewLog(stderr, "")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = run(ctx, log)
	switch code := device.ExitCode(err); code {
	case 0:
		return nil
	case 1:
		return err
	default:
		stop()
		os.Exit(code) // the reason is in the log and, for a halt, on the status descriptor
		return nil
	}
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
	// Ctrl-C cancels the update this command started: the normal world
	// stops it, cancels it with the secure world and says so.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	sock := filepath.Join(*dir, controlSocket)
	if _, err := normalworld.QueryStatus(ctx, sock); err != nil {
		return fmt.Errorf("device update: is the device running (teeup device run --dir %s)? %w", *dir, err)
	}
	say := func(s string) { fmt.Fprintln(stdout, s) }
	out, err := normalworld.Update(ctx, sock, req, say, 100*time.Millisecond)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	// Every line below is the secure world's answer, as the normal world
	// relayed it: the health check's accept or reject, and the state of
	// each component the set staged.
	if out.Rebooted {
		switch out.After.Health {
		case agent.HealthAccepted:
			if out.Accepted() {
				say("trial boot: health check passed, update accepted")
			} else {
				say("trial boot: health check passed, yet the secure world does not report the update in effect")
			}
		case agent.HealthRejected:
			say("trial boot: health check failed, update rejected; the old images return at the next reboot")
		case agent.HealthAcceptFailed, agent.HealthRejectFailed:
			say(fmt.Sprintf("trial boot: the secure world did not confirm the health check's decision (%s): %s", out.After.Health, out.After.HealthError))
		default:
			say("the device did not boot the update in trial")
		}
	}
	printComponents(stdout, out.After.Components)
	if !out.Accepted() {
		for _, c := range out.NotUpdated() {
			say(fmt.Sprintf("%s: staged by the update, now %s", componentName(c.ID), cmp.Or(c.State, "missing")))
		}
		return errors.New("update not accepted")
	}
	return nil
}

// printComponents lists components as the normal world reports them: an
// image by its name, a TA by its whole ID.
func printComponents(w io.Writer, infos []ipc.ComponentInfo) {
	for _, c := range infos {
		fmt.Fprintf(w, "%s: %s, sequence %d\n", componentName(c.ID), c.State, c.SequenceNumber)
	}
}

// componentName is an image's name, or a TA's whole ID.
func componentName(id [][]byte) string {
	if len(id) == 1 {
		return string(id[0])
	}
	return suit.ComponentID(id).String()
}

func normalWorldStatus(ctx context.Context, sock string) (*normalStatus, error) {
	return normalworld.QueryStatus(ctx, sock)
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
