// Command teeup updates the firmware and Trusted Applications of devices
// with a secure and a normal world: it builds and checks SUIT manifests
// (teeup manifest ...) and runs emulated devices (teeup device ...).
// docs/cli.md describes its conventions: exit codes, "-" for standard
// input and output, --json, --verbose.
//
// Trust: it trusts the user who runs it and the files it is given (keys,
// specs, payloads). It decides nothing itself: the secure/ packages verify
// and, on a device, the secure world does; what it reports of a device is
// what the secure world answered.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes: 0 success, 1 a failure (a refused manifest, a device that
// does not answer), 2 a usage error (a missing argument, an unknown flag).
const (
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process's exit code. Its
// error, if any, goes to stderr as one line: in plain words, or with every
// detail under --verbose.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "teeup: %s\n", a.message(err))
	if errors.As(err, new(*usageErr)) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitFailure
}

// app holds what every command shares: the standard streams and the
// global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        bool
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "teeup",
		Short: "Update the firmware and Trusted Applications of devices with a secure and a normal world",
		Long: `teeup builds, signs and checks SUIT manifests (RFC 9019, draft-ietf-suit-manifest-37)
and runs emulated devices whose secure world installs what they describe.

  teeup manifest ...   the author's side: keys, manifests, signatures, reports
  teeup device ...     an emulated device: make one, run it, update it
  teeup tam ...        a Trusted Application Manager and its operator API

Files may be binary CBOR or hex text; "-" reads standard input or writes standard output.`,
		Example: `  teeup manifest keygen --out author.pem
  teeup manifest create spec.json --key author.pem --out update.suit
  teeup device init --dir dev && teeup device run --dir dev &
  teeup device update --dir dev update.suit`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noSubcommand,
		RunE:          needSubcommand,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			warnNoCgo(cmd, a.stderr)
		},
	}
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "say more: every detail of an error, the report of a processed manifest in CBOR diagnostic notation")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageErr{err} })
	// A group (teeup, manifest, device) runs only to say a subcommand is
	// missing: its usage shows the subcommands, not a line of its own.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	root.AddCommand(a.manifestCmd(), a.deviceCmd(), a.attestCmd(), a.tamCmd(), a.fleetCmd(), a.serveCmd(), a.versionCmd())
	return root
}

// usageErr is a command line that cannot be run as written: exit code 2.
type usageErr struct{ err error }

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &usageErr{fmt.Errorf(format, args...)}
}

// noSubcommand refuses arguments to a command that only groups others:
// they name a subcommand that does not exist.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 && !cmd.HasParent() {
		return usageError("unknown command %q", args[0])
	}
	if len(args) > 0 {
		return usageError("%s: unknown command %q", where(cmd), args[0])
	}
	return nil
}

func needSubcommand(cmd *cobra.Command, _ []string) error {
	return usageError("%s: which command? (%s)", where(cmd), subcommandNames(cmd))
}

func subcommandNames(cmd *cobra.Command) string {
	var names string
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		if names != "" {
			names += ", "
		}
		names += c.Name()
	}
	return names
}

// Argument checks whose failures are usage errors.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s: takes %s", where(cmd), what)
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError("%s: takes %s", where(cmd), what)
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s: takes no arguments, got %q", where(cmd), args[0])
	}
	return nil
}

// required fails with a usage error when a flag was not given.
func required(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			return usageError("%s: needs --%s", where(cmd), n)
		}
	}
	return nil
}

// where names a command in a message that "teeup: " starts.
func where(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return "command line"
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
