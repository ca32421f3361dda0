package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/teep"
)

// tamFlags are the flags that point a device's TEEP Broker at a TAM.
type tamFlags struct {
	tam, ca string
	poll    time.Duration
}

func (f *tamFlags) add(c *cobra.Command, withPoll bool) {
	c.Flags().StringVar(&f.tam, "tam", "", "the TAM's URL (http or https): the normal world's TEEP Broker asks it for updates")
	c.Flags().StringVar(&f.ca, "tam-ca", "", "PEM of the certificate(s) trusted for the TAM (its self-signed one); default: the system's roots")
	if withPoll {
		c.Flags().DurationVar(&f.poll, "poll", broker.DefaultPollInterval, "time between two TEEP sessions, when the TAM does not ask sooner (long poll)")
	}
}

// check refuses a TAM URL or CA file the broker could not use, before
// the device starts, and returns the CA's PEM.
func (f *tamFlags) check(what string) ([]byte, error) {
	if f.tam == "" {
		if f.ca != "" {
			return nil, usageError("%s: --tam-ca needs --tam", what)
		}
		return nil, nil
	}
	if u, err := url.Parse(f.tam); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("%s: --tam takes an http or https URL, not %q", what, f.tam)
	}
	if f.poll < 0 {
		return nil, usageError("%s: --poll is negative", what)
	}
	if f.ca == "" {
		return nil, nil
	}
	caPEM, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, err
	}
	if _, err := broker.TLSConfig(caPEM); err != nil {
		return nil, usageError("%s: --tam-ca %s: %v", what, f.ca, err)
	}
	return caPEM, nil
}

// agentDeviceID is the device's ID at a TAM: the lowercase hex of the RFC
// 9679 thumbprint of its TEEP Agent's key, "" for a device without one.
func agentDeviceID(dir string) (string, error) {
	raw, err := os.ReadFile(device.AgentKeyFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return "", fmt.Errorf("%s: no PEM block", device.AgentKeyFile(dir))
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", device.AgentKeyFile(dir), err)
	}
	tp, err := teep.Thumbprint(pub)
	if err != nil {
		return "", fmt.Errorf("%s: %w", device.AgentKeyFile(dir), err)
	}
	return hex.EncodeToString(tp), nil
}

// normalArgs are the normal world's arguments that run its broker with
// f's TAM: the CA as an absolute path (the normal world reads it before
// it confines itself), the device ID for the long poll.
func (f *tamFlags) normalArgs(dir string, say io.Writer) ([]string, error) {
	if _, err := f.check("device run"); err != nil || f.tam == "" {
		return nil, err
	}
	args := []string{"--tam", f.tam, "--poll", f.poll.String()}
	if f.ca != "" {
		abs, err := filepath.Abs(f.ca)
		if err != nil {
			return nil, err
		}
		args = append(args, "--tam-ca", abs)
	}
	id, err := agentDeviceID(dir)
	if err != nil {
		return nil, err
	}
	if id == "" {
		fmt.Fprintf(say, "the device has no TEEP Agent key (%s): its broker asks %s every %s, without a long poll\n", device.AgentKeyFile(dir), f.tam, f.poll)
		return args, nil
	}
	fmt.Fprintf(say, "TEEP broker: TAM %s, device %s, a session every %s or when the TAM asks\n", f.tam, id, f.poll)
	return append(args, "--device-id", id), nil
}

// teepConfig is the normal world's side of normalArgs.
func (f *tamFlags) teepConfig(deviceID string) (*normalworld.TEEP, error) {
	caPEM, err := f.check("normal-world")
	if err != nil || f.tam == "" {
		return nil, err
	}
	return &normalworld.TEEP{TAM: f.tam, CAPEM: caPEM, DeviceID: deviceID, Poll: f.poll}, nil
}

func (a *app) deviceTEEPCmd() *cobra.Command {
	var dir string
	var f tamFlags
	var timeout time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "teep --dir DIR [--tam URL [--tam-ca PEM]] [--json]",
		Short: "Run one TEEP session of a running device with a TAM now, and wait for its outcome",
		Long: `Ask a running device's normal world to run one TEEP session with the TAM (--tam, else the
one its device run was given): its broker relays the TAM's messages to the TEEP Agent in the
secure world and the Agent's answers back, and streams the payloads the Agent asks for.
When the Agent staged firmware the device reboots: this waits for it to come back and says
whether the trial passed its health check. It prints what the session exchanged, counted
by the broker, and the components as the secure world reports them.`,
		Example: `  teeup device teep --dir dev --tam https://tam.example:8443 --tam-ca tam-cert.pem
  teeup device teep --dir dev --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "dir"); err != nil {
				return err
			}
			caPEM, err := f.check("device teep")
			if err != nil {
				return err
			}
			doc, err := a.update(dir, control.Request{Op: "teep", TAM: f.tam, TAMCA: caPEM}, timeout, asJSON)
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
	f.add(c, false)
	c.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the session and the reboot")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON (progress then goes to standard error)")
	return c
}
