package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// noCgoWarning says what a binary built without cgo cannot do, and how to
// get one that can: the emulated device's TPM is the reference simulator,
// which is C.
const noCgoWarning = `teeup: this teeup was built without cgo, so it has no TPM simulator: device init, stage,
reboot, accept, reject, status, run and sweep will fail (the manifest commands work).
Rebuild it with a C compiler and libssl-dev installed: CGO_ENABLED=1 go build ./cmd/teeup
`

// warnNoCgo says so at the start of every command but the ones that only
// describe teeup itself.
func warnNoCgo(cmd *cobra.Command, stderr io.Writer) {
	if cgoEnabled {
		return
	}
	switch cmd.Name() {
	case "version", "help", "completion", "bash", "zsh", "fish", "powershell", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return
	}
	fmt.Fprint(stderr, noCgoWarning)
}
