package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// teeupWrapper is an executable named teeup that runs this test binary's
// main (as teeup() does), for scripts that take the teeup binary's path:
// the script's processes are the real CLI's, built with this test (and
// its race detector).
func teeupWrapper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "teeup")
	script := fmt.Sprintf("#!/bin/sh\nTEEUP_RUN_MAIN=1 exec %q \"$@\"\n", os.Args[0])
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestDemo runs make demo's script (docs/demo.sh), issue 14's story, as a
// user would, with real processes: a TAM over HTTPS with its embedded
// store, two TA authors, a firmware author and an operator each with its
// own token, a refused publish outside an author's prefixes and a
// refused secure image without the operator's co-signature, one
// two-process device that attests, takes both TAs, its personalization
// and the firmware pair over TEEP, reboots into the pair and confirms
// it. The script checks the TAM's status and that the personalization's
// plaintext is in no ipc recording, flash or TAM file, and fails if not;
// this test checks what it printed.
func TestDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo-out")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", "docs", "demo.sh"), teeupWrapper(t), out)
	// Its own process group: the TAM and the device it starts are
	// stopped with it whatever happens.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	err := cmd.Run()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	if err != nil {
		tam, _ := os.ReadFile(filepath.Join(out, "tam.log"))
		dev, _ := os.ReadFile(filepath.Join(out, "device.log"))
		t.Fatalf("the demo failed: %v\n%s\ntam.log:\n%s\ndevice.log:\n%s", err, log.String(), tam, dev)
	}
	t.Logf("the demo ran in %v", time.Since(start).Round(time.Millisecond))
	got := log.String()
	for _, want := range []string{
		"TLS certificate self-signed (made now), SHA-256 fingerprint ",
		"published ta envelope ",
		"refused, as it should be: tam publish forged.suit: the TAM refused: catalog: a component outside the author's prefixes",
		"refused, as it should be: tam publish secure-2.suit: the TAM refused: catalog: the secure image lacks a registered operator's co-signature",
		"published firmware envelope ",
		"device demo-device registered as ",
		"personalization of TA/acme/hello for device ",
		"reboot=true",
		`msg="boot done" trial=true`,
		"health check passed",
		"state: idle (trial boots 1, last outcome confirmed)",
		"TA ['TA','acme','hello']: sequence 1, ",
		"personalized true",
		"TA ['TA','globex','clock']: sequence 3, ",
		"['secure']@2 ['normal']@2 ['TA','acme','hello']@1 ['TA','globex','clock']@3  affirming",
		"the plaintext personalization is in none of ",
		"failed: 403 outside_prefixes",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, got)
		}
	}
}
