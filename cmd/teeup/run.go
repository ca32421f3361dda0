package main

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/suit"
	secureworld "github.com/teeup/teeup/secure/world"
)

const controlSocket = device.ControlSocket

func (a *app) runCmd() *cobra.Command {
	var dir, health, record, level string
	var require bool
	var tf tamFlags
	c := &cobra.Command{
		Use:   "run --dir DIR [--health-cmd CMD] [--tam URL [--tam-ca PEM] [--poll 5m]] [--record-ipc FILE] [--log-level debug|info|warn|error] [--require-confinement]",
		Short: "Power the device on as two processes, a secure world and a normal world, until stopped",
		Long: `Power the device on: its secure world (the only process that opens the flash and the TPM)
boots it and serves its normal world over a socket pair; the normal world takes updates
from teeup device update on DIR/normal.sock and, after an update's reboot, runs the health
check that accepts or rejects the trial (--health-cmd, a shell command: exit 0 accepts).
A reboot restarts both worlds; a fault halts the device, saying why. Ctrl-C, SIGTERM,
SIGHUP or teeup device stop stop the device in order; teeup device kill cuts its power.
The normal world confines itself before it reads any input (Landlock, its own user,
no_new_privs, a seccomp filter; the log says which are in force) and is told nothing of DIR
but its control socket and its spool, DIR/spool; --require-confinement refuses to run a
device whose kernel lacks one of them.
With --tam, the normal world's TEEP Broker asks that TAM for updates: a session once the
boot is checked, then one every --poll, or at once when the TAM's long poll says it has
something for the device (its ID: the thumbprint of DIR/identity/agent.pub.pem). What the
TAM sends, the secure world's TEEP Agent checks and installs; firmware reboots the device.
--tam-ca trusts a TAM's self-signed certificate.
The device logs on standard error (--log-level, or $` + device.LogLevelEnv + `).`,
		Example: `  teeup device run --dir dev --health-cmd 'true' &
  teeup device run --dir dev --record-ipc ipc   # keep every byte that crosses the channel
  teeup device run --dir dev --tam https://tam.example:8443 --tam-ca tam-cert.pem --poll 30s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "dir"); err != nil {
				return err
			}
			log, err := device.NewLog(a.stderr, level)
			if err != nil {
				return usageError("device run: %v", err)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			s := &device.Supervisor{Dir: dir, Exe: exe, Stdout: a.stdout, Stderr: a.stderr, Log: log, LogLevel: level,
				RequireConfinement: require}
			if health != "" {
				s.NormalArgs = append(s.NormalArgs, "--health-cmd", health)
			}
			if record != "" {
				abs, err := filepath.Abs(record)
				if err != nil {
					return err
				}
				s.NormalArgs = append(s.NormalArgs, "--record-ipc", abs)
			}
			teepArgs, err := tf.normalArgs(dir, a.stdout)
			if err != nil {
				return err
			}
			s.NormalArgs = append(s.NormalArgs, teepArgs...)
			fmt.Fprintf(a.stdout, "device %s running: secure world and normal world; stop with Ctrl-C\n", dir)
			return s.Run(ctx)
		},
	}
	dirFlag(c, &dir)
	c.Flags().StringVar(&health, "health-cmd", "", "command the normal world runs to check a trial (exit 0: accept); default: the secure world answers and every image verifies")
	c.Flags().StringVar(&record, "record-ipc", "", "append every byte crossing ipc to FILE.to-secure and FILE.to-normal")
	c.Flags().BoolVar(&require, "require-confinement", false, "refuse to run unless the normal world is confined in every way (Landlock, its own user, no_new_privs, seccomp)")
	c.Flags().StringVar(&level, "log-level", "", "debug, info, warn or error: the level of the device's logs on stderr (default: $"+device.LogLevelEnv+", else info)")
	tf.add(c, true)
	return c
}

// secureWorldCmd is the secure world's process, which the supervisor of
// device run starts: it alone opens the flash and the TPM, and hands them
// to secure/world.
func (a *app) secureWorldCmd() *cobra.Command {
	var dir string
	var withShared bool
	c := &cobra.Command{
		Use:    "secure-world --dir DIR",
		Short:  "The secure world of a running device (started by device run)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorld(a.stderr, func(ctx context.Context, log *slog.Logger) error {
				hardened, err := secureworld.Harden()
				if err != nil {
					return err
				}
				log.Info("hardened", "measures", hardened)
				conn := os.NewFile(device.IPCFD, "ipc")
				shared, err := mapShared(withShared, false)
				if err != nil {
					conn.Close()
					return fmt.Errorf("secure world: %w", err)
				}
				d, err := device.OpenHardware(dir)
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
		},
	}
	dirFlag(c, &dir)
	c.Flags().BoolVar(&withShared, "ipc-shared", false, "the supervisor passed a shared region")
	return c
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

// normalWorldProbe, set only by a test binary, is the hostile normal
// world's probe (device.NormalOptions.Probe).
var normalWorldProbe func() func()

// normalWorldNoSeccomp, set only by a test binary, leaves the normal
// world's seccomp filter out, to measure its cost.
var normalWorldNoSeccomp bool

// normalWorldCmd is the normal world's process: it confines itself, and
// its end of the socket pair is all it has of the device.
func (a *app) normalWorldCmd() *cobra.Command {
	var healthCmd, record, deviceID string
	var withShared bool
	var tf tamFlags
	c := &cobra.Command{
		Use:    "normal-world",
		Short:  "The normal world of a running device (started by device run)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The TAM's certificate is read now, before the process
			// confines itself.
			teepCfg, err := tf.teepConfig(deviceID)
			if err != nil {
				return err
			}
			return runWorld(a.stderr, func(ctx context.Context, log *slog.Logger) error {
				return device.RunNormalWorld(ctx, log, device.NormalOptions{HealthCmd: healthCmd, RecordIPC: record,
					Shared: withShared, Stdout: a.stdout, Stderr: a.stderr, Probe: normalWorldProbe,
					NoSeccomp: normalWorldNoSeccomp, TEEP: teepCfg})
			})
		},
	}
	c.Flags().StringVar(&healthCmd, "health-cmd", "", "the health check's shell command")
	c.Flags().StringVar(&record, "record-ipc", "", "record the channel's bytes under this prefix")
	c.Flags().BoolVar(&withShared, "ipc-shared", false, "the supervisor passed a shared region")
	c.Flags().StringVar(&deviceID, "device-id", "", "the device's ID at the TAM, for the long poll")
	tf.add(c, true)
	return c
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

// updateDoc is what device update --json reports: how the update ended
// and the components as the secure world reports them afterwards.
type updateDoc struct {
	// Result is "installed" (TAs: no reboot), "done" (a TEEP session
	// that staged nothing), "accepted" or "rejected" (the trial after the
	// reboot), "not-in-trial", or "failed".
	Result string `json:"result"`
	// Session is what a TEEP session (device teep) exchanged, as the
	// broker counted it.
	Session    *broker.Outcome `json:"session,omitempty"`
	Rebooted   bool            `json:"rebooted"`
	Components []componentInfo `json:"components,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// componentInfo is a component as the secure world reports it. Digest is
// the SUIT digest (hex of its encoding).
type componentInfo struct {
	ID             string `json:"id"`
	State          string `json:"state"`
	SequenceNumber uint64 `json:"sequence_number"`
	Digest         string `json:"digest,omitempty"`
	Size           uint64 `json:"size,omitempty"`
}

func componentInfos(infos []ipc.ComponentInfo) []componentInfo {
	out := make([]componentInfo, 0, len(infos))
	for _, c := range infos {
		out = append(out, componentInfo{ID: componentName(c.ID), State: fmt.Sprint(c.State),
			SequenceNumber: c.SequenceNumber, Digest: hex.EncodeToString(c.Digest), Size: c.Size})
	}
	return out
}

func (a *app) updateCmd() *cobra.Command {
	var dir string
	var payloads []string
	var timeout time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "update --dir DIR [--payload URI=FILE]... ENVELOPE|URI...",
		Short: "Update a running device through its normal world, and wait for the outcome",
		Long: `Hand envelopes (files, or http(s) URIs the normal world downloads) to a running device's
normal world, which streams each payload (fetched over HTTP, or a local --payload file)
into the secure world. The secure world verifies everything before it installs anything.
Firmware then reboots the device: this waits for it to come back and says whether the
trial passed its health check. TAs install with no reboot. Ctrl-C cancels the update.`,
		Example: `  teeup device update --dir dev http://fw.example:8080/normal-2.suit
  teeup device update --dir dev --payload http://fw.example/normal-2.bin=normal-2.bin normal-2.suit
  teeup device update --dir dev --json hello-ta.suit`,
		Args: minArgs(1, "at least one ENVELOPE file or URI"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if err := required(cmd, "dir"); err != nil {
				return err
			}
			req := control.Request{Op: "update", Local: map[string]string{}}
			for _, p := range pos {
				if p == stdio {
					// The envelope on standard input goes over as a file.
					tmp, err := a.stdinFile()
					if err != nil {
						return err
					}
					defer os.Remove(tmp)
					p = tmp
				}
				if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
					var err error
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
				var err error
				if req.Local[uri], err = filepath.Abs(file); err != nil {
					return err
				}
			}
			doc, err := a.update(dir, req, timeout, asJSON)
			if asJSON {
				if err != nil {
					doc.Result, doc.Error = "failed", a.message(err)
				}
				if jerr := writeJSON(a.stdout, doc); jerr != nil {
					return jerr
				}
			}
			return err
		},
	}
	dirFlag(c, &dir)
	c.Flags().StringArrayVar(&payloads, "payload", nil, "URI=FILE: a payload the normal world has as a file; repeatable")
	c.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the update and the reboot")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON (progress then goes to standard error)")
	return c
}

// update runs an update request (or a TEEP session: req.Op "teep") on
// the device in dir and waits for its outcome, saying how it goes (on
// stderr when stdout carries JSON). Every outcome it reports is the
// secure world's answer, as the normal world relayed it: the health
// check's accept or reject, and the state of each component the set
// staged; and for a session what the broker counted.
func (a *app) update(dir string, req control.Request, timeout time.Duration, asJSON bool) (updateDoc, error) {
	var doc updateDoc
	if err := needDevice(dir); err != nil {
		return doc, err
	}
	say := a.say(asJSON)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Ctrl-C cancels the update this command started: the normal world
	// stops it, cancels it with the secure world and says so.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	sock := filepath.Join(dir, controlSocket)
	if _, err := waitForDevice(ctx, sock, deviceStartWait); err != nil {
		return doc, &plainError{plain: fmt.Sprintf("device %s: the device in %s does not answer; is it running (teeup device run --dir %s)?", req.Op, dir, dir), err: err}
	}
	prog := newProgress(say, isTerminal(say), time.Now)
	out, err := normalworld.Update(ctx, sock, req, prog.line, 100*time.Millisecond)
	prog.end()
	if out != nil && out.Session != nil {
		doc.Session = out.Session
		s := out.Session
		fmt.Fprintf(say, "TEEP session: %d message(s) from the TAM, %d to it (%d HTTP requests); %d payload(s), %d bytes; reboot asked: %v\n",
			s.Received, s.Sent, s.Requests, s.Payloads, s.PayloadBytes, s.Reboot)
	}
	if err != nil {
		return doc, fmt.Errorf("%s: %w", req.Op, err)
	}
	doc.Rebooted, doc.Components = out.Rebooted, componentInfos(out.After.Components)
	switch {
	case !out.Rebooted && req.Op == "teep":
		doc.Result = "done"
		fmt.Fprintln(say, "session over, no reboot needed")
	case !out.Rebooted:
		doc.Result = "installed"
		fmt.Fprintln(say, "installed, no reboot needed")
	default:
		doc.Result = string(out.After.Health)
		switch out.After.Health {
		case agent.HealthAccepted:
			if out.Accepted() {
				fmt.Fprintln(say, "trial boot: health check passed, update accepted")
			} else {
				doc.Result = "not-in-effect"
				fmt.Fprintln(say, "trial boot: health check passed, yet the secure world does not report the update in effect")
			}
		case agent.HealthRejected:
			fmt.Fprintln(say, "trial boot: health check failed, update rejected; the old images return at the next reboot")
		case agent.HealthAcceptFailed, agent.HealthRejectFailed:
			doc.Error = out.After.HealthError
			fmt.Fprintf(say, "trial boot: the secure world did not confirm the health check's decision (%s): %s\n", out.After.Health, out.After.HealthError)
		default:
			doc.Result = "not-in-trial"
			fmt.Fprintln(say, "the device did not boot the update in trial")
		}
	}
	printComponents(say, out.After.Components)
	if !out.Accepted() {
		for _, c := range out.NotUpdated() {
			fmt.Fprintf(say, "%s: staged by the update, now %s\n", componentName(c.ID), cmp.Or(c.State, "missing"))
		}
		return doc, errors.New("update not accepted")
	}
	return doc, nil
}

// deviceStartWait is how long device update waits for a device that is
// not answering yet: one started a moment ago (device run ... &) boots
// first.
const deviceStartWait = 15 * time.Second

// waitForDevice asks the normal world for its status until it answers, or
// wait has passed.
func waitForDevice(ctx context.Context, sock string, wait time.Duration) (*normalStatus, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := normalWorldStatus(ctx, sock)
		if err == nil || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// printComponents lists components as the normal world reports them: an
// image by its name, a TA by its whole ID.
func printComponents(w io.Writer, infos []ipc.ComponentInfo) {
	for _, c := range infos {
		fmt.Fprintf(w, "%s: %s, sequence %d\n", componentName(c.ID), c.State, c.SequenceNumber)
	}
}

// componentName is an image by its name, a TA by its whole ID.
func componentName(id [][]byte) string {
	if len(id) == 1 {
		return string(id[0])
	}
	return suit.ComponentID(id).String()
}

func normalWorldStatus(ctx context.Context, sock string) (*normalStatus, error) {
	return normalworld.QueryStatus(ctx, sock)
}

func (a *app) stopCmd() *cobra.Command {
	var dir string
	var timeout time.Duration
	c := &cobra.Command{
		Use:     "stop --dir DIR",
		Short:   "Stop a running device in order, as Ctrl-C on device run does, and wait until it has",
		Example: "  teeup device stop --dir dev",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "dir"); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := device.Stop(ctx, dir); err != nil {
				return fmt.Errorf("device stop: %w", err)
			}
			fmt.Fprintf(a.stdout, "device %s stopped\n", dir)
			return nil
		},
	}
	dirFlag(c, &dir)
	c.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for the device to stop")
	return c
}

func (a *app) killCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:     "kill --dir DIR",
		Short:   "Cut the power of a running device: both worlds stop at once, and it boots again",
		Example: "  teeup device kill --dir dev",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "dir"); err != nil {
				return err
			}
			if err := device.PowerCut(dir); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "power cut, as asked: both worlds stopped at once; the device boots again")
			return nil
		},
	}
	dirFlag(c, &dir)
	return c
}
