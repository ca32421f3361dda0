package device

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/teeup/teeup/ipc"
)

// PowerCutSignal is the signal that, sent to a running supervisor, cuts
// the device's power: both worlds die at once, mid-operation, and the
// device boots again.
const PowerCutSignal = syscall.SIGUSR1

// socketBuffer is the send buffer of each end of the socket pair: room
// for the chunks of payload (1 MiB each) the normal world sends ahead of
// the one the secure world handles. The kernel doubles it, and caps it at
// net.core.wmem_max.
const socketBuffer = 2 << 20

// stopTimeout is how long a world has to stop after SIGTERM.
const stopTimeout = 10 * time.Second

// Supervisor is the device host of `teeup device run`: it powers the
// device on as two processes, the secure world (which alone opens the
// flash and the TPM) and the normal world (which gets nothing but its end
// of a socket pair), and resets or power-cycles them. It holds the
// device directory's run lock while it runs; the worlds die with it.
type Supervisor struct {
	Dir string
	// Exe is the teeup binary the worlds run as.
	Exe            string
	Stdout, Stderr io.Writer
	// Log receives the supervisor's own events; nil: text on Stderr.
	Log *slog.Logger
	// LogLevel is passed to the worlds as LogLevelEnv (empty: theirs).
	LogLevel string
	// MaxBoots stops the supervisor after that many boots (0: no limit).
	MaxBoots int
	// NormalArgs are extra arguments of the normal world.
	NormalArgs []string
	// Restart caps restarts after crashes (zero: DefaultRestartPolicy).
	Restart RestartPolicy
	// RequireConfinement stops the device (ErrNotConfined) when the
	// normal world does not put every confinement in force; without it,
	// the device runs and the log says what is missing.
	RequireConfinement bool
}

// HaltError is returned by Run when a world halted the device on a
// fault: which world, and its reason.
type HaltError struct {
	World  string
	Reason string
}

func (e *HaltError) Error() string {
	return fmt.Sprintf("the device halts: %s world: %s", e.World, e.Reason)
}

// Run runs the device until ctx ends (nil), a world halts it on a fault
// (*HaltError), the worlds crash more often than the restart policy
// allows (ErrCrashLoop) or another supervisor already runs it
// (*RunningError).
func (s *Supervisor) Run(ctx context.Context) error {
	log := s.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(s.Stderr, nil))
	}
	policy := s.Restart
	if policy == (RestartPolicy{}) {
		policy = DefaultRestartPolicy
	}
	lock, err := lockRun(s.Dir)
	if err != nil {
		return err
	}
	defer lock.release()
	defer os.Remove(filepath.Join(s.Dir, confinementFile))
	cuts := make(chan os.Signal, 4)
	signal.Notify(cuts, PowerCutSignal)
	defer signal.Stop(cuts)
	crashed := crashes{policy: policy}
	for boot := 1; s.MaxBoots == 0 || boot <= s.MaxBoots; boot++ {
		log.Debug("power on", "boot", boot)
		end, err := s.powerOn(ctx, log, cuts)
		if err != nil {
			return err
		}
		switch end.kind {
		case endStopped:
			log.Info("stopped")
			return nil
		case endPowerCut:
			log.Info("power cut")
		case endReboot:
			log.Info("reset requested by the secure world")
		case endHalt:
			log.Error("the device halts", "world", end.world, "reason", end.reason)
			return &HaltError{World: end.world, Reason: end.reason}
		case endCrash:
			restart, delay, n := crashed.next(time.Now())
			if !restart {
				log.Error("crash loop: the device halts", "world", end.world, "exit", end.status,
					"crashes", n, "within", policy.Interval)
				return fmt.Errorf("%w: %d crashes within %v, the last of the %s world (exit status %d)",
					ErrCrashLoop, n, policy.Interval, end.world, end.status)
			}
			log.Warn("world crashed: reset", "world", end.world, "exit", end.status,
				"crash", n, "of", policy.Burst, "within", policy.Interval, "delay", delay)
			select {
			case <-ctx.Done():
				log.Info("stopped")
				return nil
			case <-time.After(delay):
			}
		}
	}
	return nil
}

// How a power-on ended.
type endKind int

const (
	endStopped endKind = iota
	endPowerCut
	endReboot
	endHalt
	endCrash
)

type ending struct {
	kind   endKind
	world  string // the world that ended it, for a halt or a crash
	status int
	reason string
}

// worldExit is how one world's process ended.
type worldExit struct {
	world  string
	status int
	reason string // what it wrote on its status descriptor
}

// powerOn starts both worlds and waits until the device resets, loses
// power, halts, crashes or is stopped; it says which.
func (s *Supervisor) powerOn(ctx context.Context, log *slog.Logger, cuts <-chan os.Signal) (ending, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return ending{}, err
	}
	// A chunk the normal world sends ahead then waits whole in the
	// kernel for the secure world, which reads it at once when done with
	// the last, rather than as the normal world gets to write it.
	for _, fd := range fds {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, socketBuffer) // a larger buffer only speeds the stream
	}
	ends := [2]*os.File{os.NewFile(uintptr(fds[0]), "ipc-secure"), os.NewFile(uintptr(fds[1]), "ipc-normal")}
	// The shared region, where one is available, carries the chunks'
	// data; it is new at every power-on, as RAM is.
	shared, err := ipc.CreateShared(ipc.SharedSlots * ipc.MaxChunk)
	if err != nil {
		shared = nil // the chunks go in the frames
	}
	defer func() {
		if shared != nil {
			shared.Close()
		}
	}()
	// The normal world's control socket, for this power-on, and its
	// spool: it is told nothing else of the device directory.
	spool, err := prepareSpool(s.Dir)
	if err != nil {
		return ending{}, err
	}
	control, controlFile, err := listenControl(s.Dir)
	if err != nil {
		return ending{}, err
	}
	defer control.Close()
	defer controlFile.Close()
	confineR, confineW, err := os.Pipe()
	if err != nil {
		return ending{}, err
	}
	defer confineR.Close()
	defer confineW.Close() // closed already once the normal world started
	normal := normalFiles{spool: spool, control: controlFile, confine: confineW}
	exited := make(chan worldExit, 2)
	var started []*exec.Cmd
	stopAll := func(sig os.Signal) {
		for _, c := range started {
			_ = c.Process.Signal(sig) // one that already exited is a zombie until waited: harmless
		}
	}
	for i, name := range []string{"secure", "normal"} {
		c, status, err := s.start(name, ends[i], shared, normal)
		ends[i].Close()
		if name == "normal" {
			confineW.Close()
		}
		if err != nil {
			for _, f := range ends[i+1:] {
				f.Close()
			}
			stopAll(syscall.SIGKILL)
			for range started {
				<-exited
			}
			return ending{}, err
		}
		started = append(started, c)
		go func() {
			reason, _ := io.ReadAll(io.LimitReader(status, maxReason))
			status.Close()
			exited <- worldExit{world: name, status: exitStatus(c.Wait()), reason: strings.TrimSpace(string(reason))}
		}()
	}

	reports := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(confineR, maxConfineReport))
		reports <- b
	}()
	var end *ending // set if the device was stopped or lost power
	var refused error
	var first worldExit
	pending := 2
wait:
	for {
		select {
		case <-ctx.Done():
			stopAll(syscall.SIGTERM)
			end = &ending{kind: endStopped}
			break wait
		case <-cuts:
			stopAll(syscall.SIGKILL)
			end = &ending{kind: endPowerCut}
			break wait
		case first = <-exited:
			pending--
			stopAll(syscall.SIGTERM)
			break wait
		case raw := <-reports:
			reports = nil
			r := checkConfinement(started[1].Process.Pid, raw)
			if err := writeJSON(filepath.Join(s.Dir, confinementFile), r); err != nil {
				log.Warn("confinement not recorded for device status", "err", err)
			}
			missing := r.Missing()
			if len(missing) == 0 {
				log.Info("normal world confined", "measures", r.String())
				continue
			}
			if !s.RequireConfinement {
				log.Warn("normal world runs with confinements missing", "missing", missing, "measures", r.String())
				continue
			}
			log.Error("normal world not confined: the device stops", "missing", missing, "measures", r.String())
			refused = fmt.Errorf("%w: missing %s (%s)", ErrNotConfined, strings.Join(missing, ", "), r.String())
			stopAll(syscall.SIGKILL)
			end = &ending{}
			break wait
		}
	}
	var all []worldExit
	if pending == 1 {
		all = append(all, first)
	}
	timeout := time.After(stopTimeout)
	for pending > 0 {
		select {
		case e := <-exited:
			all = append(all, e)
			pending--
		case <-timeout:
			stopAll(syscall.SIGKILL)
			timeout = nil
		}
	}
	if refused != nil {
		return ending{}, refused
	}
	if end != nil {
		return *end, nil
	}
	return classify(first, all), nil
}

// classify says how a power-on ended that a world's exit ended: a halt
// of either world wins over what its exit did to the other (the normal
// world loses its channel when the secure world halts); then a reset the
// secure world asked for; anything else is a crash of the world that
// exited first.
func classify(first worldExit, all []worldExit) ending {
	for _, e := range all {
		if e.status == ExitHalt {
			reason := e.reason
			if reason == "" {
				reason = "a fault (no reason given)"
			}
			return ending{kind: endHalt, world: e.world, status: e.status, reason: reason}
		}
	}
	if first.world == "secure" && first.status == ExitReboot {
		return ending{kind: endReboot}
	}
	return ending{kind: endCrash, world: first.world, status: first.status}
}

// start starts one world with its end of the socket pair as IPCFD, the
// write end of its status pipe as StatusFD and the shared region, if
// any, as SharedFD; it returns the read end of the status pipe. The world
// dies with the supervisor (its parent death signal), ignores the
// terminal's signals (the supervisor stops it) and checks at start that
// its supervisor is still there (CheckSupervisor).
func (s *Supervisor) start(world string, end, shared *os.File, normal normalFiles) (*exec.Cmd, *os.File, error) {
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer statusW.Close()
	c := exec.Command(s.Exe, "device", world+"-world")
	c.ExtraFiles = []*os.File{end, statusW, shared}
	if shared != nil {
		c.Args = append(c.Args, "--ipc-shared")
	}
	if world == "normal" {
		// Not the device directory: its spool as its working
		// directory, and the control socket as a descriptor.
		c.Args = append(c.Args, s.NormalArgs...)
		c.Dir = normal.spool
		c.ExtraFiles = append(c.ExtraFiles, normal.control, normal.confine)
	} else {
		c.Args = append(c.Args, "--dir", s.Dir)
	}
	c.Stdout, c.Stderr = prefixed(s.Stdout, world+"-world"), prefixed(s.Stderr, world+"-world")
	c.Env = append(os.Environ(), supervisorEnv+"="+strconv.Itoa(os.Getpid()))
	if s.LogLevel != "" {
		c.Env = append(c.Env, LogLevelEnv+"="+s.LogLevel)
	}
	c.SysProcAttr = worldProcAttr()
	if err := c.Start(); err != nil {
		statusR.Close()
		return nil, nil, err
	}
	return c, statusR, nil
}

// normalFiles are what the normal world gets of the device: its spool,
// its control socket and the pipe it reports its confinement on.
type normalFiles struct {
	spool            string
	control, confine *os.File
}

// PowerCut cuts the power of the device running in dir. A run.pid that a
// dead supervisor left is cleared: ErrNotRunning.
func PowerCut(dir string) error {
	pid, err := runningPID(dir)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, PowerCutSignal)
}

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func prefixed(w io.Writer, name string) io.Writer {
	if w == nil {
		return nil
	}
	return &prefixWriter{w: w, prefix: name + ": "}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	for _, l := range lines {
		if l != "" {
			out.WriteString(p.prefix + l)
		}
	}
	if _, err := io.WriteString(p.w, out.String()); err != nil {
		return 0, err
	}
	return len(b), nil
}
