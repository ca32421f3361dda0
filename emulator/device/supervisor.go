package device

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// ExitReboot is the exit status with which the secure world asks for a
// reset (after an install set is committed, or when the normal world asks).
const ExitReboot = 3

// PowerCutSignal, sent to a running supervisor, cuts the device's power:
// both worlds die at once, mid-operation, and the device boots again.
const PowerCutSignal = syscall.SIGUSR1

const pidFile = "run.pid"

// socketBuffer is the send buffer of each end of the socket pair: room
// for the chunks of payload (1 MiB each) the normal world sends ahead of
// the one the secure world handles. The kernel doubles it, and caps it at
// net.core.wmem_max.
const socketBuffer = 2 << 20

// SharedFD is the file descriptor of the shared region in a world started
// with --ipc-shared.
const SharedFD = 4

// Supervisor is the device host of `teeup device run`: it powers the
// device on as two processes, the secure world (which alone opens the
// flash and the TPM) and the normal world (which gets nothing but its end
// of a socket pair), and resets or power-cycles them.
type Supervisor struct {
	Dir string
	// Exe is the teeup binary the worlds run as.
	Exe            string
	Stdout, Stderr io.Writer
	// MaxBoots stops the supervisor after that many boots (0: no limit).
	MaxBoots int
	// NormalArgs are extra arguments of the normal world.
	NormalArgs []string
}

// Run runs the device until ctx ends.
func (s *Supervisor) Run(ctx context.Context) error {
	if err := os.WriteFile(filepath.Join(s.Dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(s.Dir, pidFile))
	cuts := make(chan os.Signal, 4)
	signal.Notify(cuts, PowerCutSignal)
	defer signal.Stop(cuts)
	for boot := 1; s.MaxBoots == 0 || boot <= s.MaxBoots; boot++ {
		reason, err := s.powerOn(ctx, cuts)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Stdout, "device: %s\n", reason)
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// powerOn starts both worlds and waits until the device resets, loses
// power or is stopped; it says which.
func (s *Supervisor) powerOn(ctx context.Context, cuts <-chan os.Signal) (string, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	// A chunk the normal world sends ahead then waits whole in the
	// kernel for the secure world, which reads it at once when done with
	// the last, rather than as the normal world gets to write it.
	for _, fd := range fds {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, socketBuffer)
	}
	secureEnd := os.NewFile(uintptr(fds[0]), "ipc-secure")
	normalEnd := os.NewFile(uintptr(fds[1]), "ipc-normal")
	// The shared region, where one is available, carries the chunks'
	// data; it is new at every power-on, as RAM is.
	shared, err := ipc.CreateShared(ipc.SharedSlots * ipc.MaxChunk)
	if err != nil {
		shared = nil // the chunks go in the frames
	}
	secure := s.world("secure-world", secureEnd, shared)
	normal := s.world("normal-world", normalEnd, shared)
	closeFiles := func(fs ...*os.File) {
		for _, f := range fs {
			if f != nil {
				f.Close()
			}
		}
	}
	if err := secure.Start(); err != nil {
		closeFiles(secureEnd, normalEnd, shared)
		return "", err
	}
	secureEnd.Close()
	if err := normal.Start(); err != nil {
		closeFiles(normalEnd, shared)
		secure.Process.Kill()
		secure.Wait()
		return "", err
	}
	closeFiles(normalEnd, shared)
	exited := make(chan worldExit, 2)
	go func() { exited <- worldExit{"secure", secure.Wait()} }()
	go func() { exited <- worldExit{"normal", normal.Wait()} }()

	stopBoth := func(sig os.Signal) {
		for _, c := range []*exec.Cmd{secure, normal} {
			if c.ProcessState == nil {
				c.Process.Signal(sig)
			}
		}
	}
	var reason string
	select {
	case <-ctx.Done():
		stopBoth(syscall.SIGTERM)
		reason = "stopped"
	case <-cuts:
		stopBoth(syscall.SIGKILL)
		reason = "power cut"
	case e := <-exited:
		switch {
		case e.world == "secure" && exitCode(e.err) == ExitReboot:
			reason = "reset requested by the secure world"
		default:
			reason = fmt.Sprintf("%s world exited (%v): reset", e.world, e.err)
		}
		stopBoth(syscall.SIGTERM)
		exited <- e
	}
	timeout := time.After(10 * time.Second)
	for range 2 {
		select {
		case <-exited:
		case <-timeout:
			stopBoth(syscall.SIGKILL)
			<-exited
		}
	}
	return reason, nil
}

type worldExit struct {
	world string
	err   error
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

// world is the command of one world, with its end of the socket pair as
// fd 3 and the shared region, if any, as fd 4 (SharedFD).
func (s *Supervisor) world(name string, end, shared *os.File) *exec.Cmd {
	c := exec.Command(s.Exe, "device", name, "--dir", s.Dir)
	if name == "normal-world" {
		c.Args = append(c.Args, s.NormalArgs...)
	}
	c.ExtraFiles = []*os.File{end}
	if shared != nil {
		c.ExtraFiles = append(c.ExtraFiles, shared)
		c.Args = append(c.Args, "--ipc-shared")
	}
	c.Stdout, c.Stderr = prefixed(s.Stdout, name), prefixed(s.Stderr, name)
	c.Env = os.Environ()
	return c
}

// PowerCut cuts the power of the device running in dir.
func PowerCut(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return fmt.Errorf("device: is it running? %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("device: bad %s: %w", pidFile, err)
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
