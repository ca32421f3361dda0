package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstartMarker stands before the README's quickstart block.
const quickstartMarker = "<!-- quickstart: TestREADMEQuickstart runs the block below -->"

// readmeQuickstart is the shell block that follows the marker in README.md.
func readmeQuickstart(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), quickstartMarker)
	if !ok {
		t.Fatalf("README.md has no %q", quickstartMarker)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("no ```sh block after the quickstart marker")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the quickstart block does not end")
	}
	return block
}

// freeAddr is a loopback address nothing listens on, so that runs in
// parallel do not share the README's port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestREADMEQuickstart runs the README's quickstart as a user would, with
// a teeup built from this tree on the PATH, in an empty folder: keys, a
// device that trusts them, a 20 MB firmware image pushed over HTTP and
// accepted after its trial boot, a TA from a second author, a stop. Only
// the HTTP port is changed, to one that is free.
func TestREADMEQuickstart(t *testing.T) {
	block := readmeQuickstart(t)
	block = strings.ReplaceAll(block, "127.0.0.1:8080", freeAddr(t))
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "teeup"), ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	// Its own process group: whatever the block leaves running (the
	// device, the server) is stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(work, "device.log"))
		t.Fatalf("the quickstart failed: %v\n%s\ndevice.log:\n%s", err, out.String(), log)
	}
	got := out.String()
	for _, want := range []string{
		"TA authors: acme",
		"20000000 bytes written, digest verified by the secure world",
		"100% 19.1 MiB of 19.1 MiB", // the progress, as a log shows it
		"trial boot: health check passed, update accepted",
		"normal: UPDATED, sequence 2",
		"['TA','acme','hello']: UPDATED, sequence 1",
		"device dev stopped",
		"normal: counter 2",
		"primary   sequence 2,",
		"TA ['TA','acme','hello']: sequence 1,",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the quickstart's output lacks %q:\n%s", want, got)
		}
	}
	// The device holds no private key of the user's: only public copies.
	keys, _ := filepath.Glob(filepath.Join(work, "dev", "dev-keys", "*"))
	if len(keys) != 0 {
		t.Errorf("a device made with the user's keys holds development keys %v", keys)
	}
}
