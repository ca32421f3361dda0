// Command teeup updates the firmware and Trusted Applications of devices
// with a secure and a normal world. Subcommands:
//
//	teeup manifest keygen|create|sign|verify|inspect|process|report ...
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
)

// exitError carries an exit status; its message (if any) goes to stderr
// as one line.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(os.Stderr, "teeup: %v\n", err)
	os.Exit(code)
}

const usage = `usage: teeup <command> [arguments]

commands:
  manifest keygen   --alg ES256|ESP256|ES384|Ed25519 --out key.pem
  manifest create   SPEC.json --key key.pem [--key k2.pem] [--integrate] [--publish DIR] --out x.suit
  manifest sign     --key key.pem x.suit
  manifest verify   --key PUB.pem [--key PUB2.pem] [--mac-key KEY] FILE
  manifest inspect  [--json] FILE
  manifest process  --key PUB.pem [--anchor PUB.pem=PREFIX,...] [--mac-key KEY] [--device DEVICE.json] [--payload URI=FILE]...
                    [--kek KEK] [--device-key DEVICE.pem]
                    [--report R.cbor [--report-key DEVICE.pem]] [--nonce HEX] [--capabilities] [--report-json]
                    [--simulate-missing-payloads] --out DIR FILE
  manifest report   [--key DEVICE.pub.pem] [--mac-key KEY] [--json] REPORT
  device init       --dir D [--secure-image F] [--normal-image F]
  device stage      --dir D [--image secure|normal=FILE]... ENVELOPE...
  device reboot     --dir D [--cut-at N --cut-mode before|after|torn]
  device accept     --dir D
  device reject     --dir D
  device status     --dir D [--json]
  device sweep      [--scenario normal|secure|atomic|revert|double|all] [--stride N]
  device run        --dir D [--health-cmd CMD] [--log-level debug|info|warn|error]
                    (secure and normal world as two processes; log level also $TEEUP_LOG_LEVEL)
  device update     --dir D [--payload URI=FILE]... ENVELOPE|URI...
  device kill       --dir D                      (cut the power of a running device)
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2, err: errors.New("no command")}
	}
	switch args[0] {
	case "manifest":
		return runManifest(args[1:], stdout, stderr)
	case "device":
		return runDevice(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("unknown command %q", args[0])}
}
