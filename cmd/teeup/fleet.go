package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/emulator/fleet"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/client"
)

func (a *app) fleetCmd() *cobra.Command {
	c := &cobra.Command{Use: "fleet", Short: "Simulate a fleet of light devices against a TAM"}
	c.AddCommand(a.fleetSimulateCmd())
	return c
}

func (a *app) fleetSimulateCmd() *cobra.Command {
	var (
		conn                    tamConn
		n, concurrency          int
		failInstall, failAttest float64
		seed                    uint64
		duration                time.Duration
		untilIdle, register     bool
		authorFiles             []string
		asJSON                  bool
	)
	c := &cobra.Command{
		Use:   "simulate --tam URL --devices N --author PUB.pem... [--register --token T] [--fail-install S] [--fail-attest S] [--seed S] [--concurrency C] [--duration D | --until-idle] [--json]",
		Short: "Run N light devices (software keys, the real TEEP Agent, in-memory TA stores) in real TEEP sessions with a TAM",
		Long: `Run N light devices in one process, each with its own TEEP Agent key and the real Agent, an
in-memory TA store installing what the --author keys signed (firmware applies at a simulated
reboot), and evidence from one emulated device (in a temporary directory) that they share.
Each round runs one TEEP session of every device, --concurrency at a time, until a round
in which no install succeeded (--until-idle, the default) or for --duration. --register registers every
device at the TAM first (operator token): the emulated device's endorsement with the device's
Agent key, and its factory reference values. A seeded share of devices fails install
(--fail-install: the Agent answers Error) or attestation (--fail-attest: evidence bound to a
stale challenge). Progress goes to standard error, the summary to standard output.
All devices come from one address, which a TAM rate-limits as one source (429, waited out a
bounded number of times): start that TAM with tam serve --teep-rate R --teep-burst B
to match the fleet.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if conn.url == "" {
				return usageError("%s: needs --tam URL", where(cmd))
			}
			if duration > 0 && untilIdle {
				return usageError("%s: takes --duration or --until-idle", where(cmd))
			}
			authors, err := readPublicKeys(authorFiles)
			if err != nil {
				return usageError("%s: --author: %v", where(cmd), err)
			}
			ctx := cmd.Context()
			var cl *client.Client
			if register {
				if cl, err = conn.client(cmd); err != nil {
					return err
				}
			}
			keyPEM, err := fetchTAMKey(conn.url, conn.caFile)
			if err != nil {
				return err
			}
			tamKey, err := suit.ParsePublicKeyPEM(keyPEM)
			if err != nil {
				return fmt.Errorf("the TAM's key: %w", err)
			}
			dir, err := os.MkdirTemp("", "teeup-fleet-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			ev, closeEv, err := sharedEvidence(ctx, dir, tamKey)
			if err != nil {
				return err
			}
			defer closeEv()
			f, err := fleet.New(fleet.Config{Devices: n, TAMKeys: []*suit.Key{tamKey}, Authors: authors, Evidence: ev,
				FailInstall: failInstall, FailAttest: failAttest, Seed: seed})
			if err != nil {
				return usageError("%s: %v", where(cmd), err)
			}
			if register {
				if err := registerFleet(ctx, cl, f, dir); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "registered %d devices\n", n)
			}
			hc, err := tamHTTPClient(conn.caFile)
			if err != nil {
				return err
			}
			var sum fleet.Summary
			f.Injected(&sum)
			start := time.Now()
			for {
				before := sum.InstallSucceeded
				f.Round(ctx, hc, conn.url, concurrency, &sum)
				fmt.Fprintf(cmd.ErrOrStderr(), "round %d: %d sessions, %d Updates, %d succeeded, %d failed, %d session errors\n",
					sum.Rounds, sum.Sessions, sum.Updates, sum.InstallSucceeded, sum.InstallFailed, sum.SessionErrors)
				if ctx.Err() != nil || duration > 0 && time.Since(start) >= duration || duration == 0 && sum.InstallSucceeded == before {
					break
				}
			}
			sum.Elapsed = time.Since(start)
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(sum)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d devices, %d rounds, %d sessions (%d errors) in %s\n"+
				"installs: %d succeeded, %d failed; %d reboots\ninjected: %d install failures, %d attestation failures\n",
				sum.Devices, sum.Rounds, sum.Sessions, sum.SessionErrors, sum.Elapsed.Round(time.Millisecond),
				sum.InstallSucceeded, sum.InstallFailed, sum.Reboots, sum.InjectedInstall, sum.InjectedAttest)
			if sum.LastError != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "last session error: %s\n", sum.LastError)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&conn.url, "tam", os.Getenv("TEEUP_TAM"), "the TAM's URL (env TEEUP_TAM)")
	fl.StringVar(&conn.token, "token", os.Getenv("TEEUP_TOKEN"), "an operator token, for --register (env TEEUP_TOKEN)")
	fl.StringVar(&conn.caFile, "tam-ca", "", "trust only this PEM certificate for the TAM")
	fl.IntVar(&n, "devices", 10, "the number of devices")
	fl.IntVar(&concurrency, "concurrency", 16, "sessions at a time")
	fl.Float64Var(&failInstall, "fail-install", 0, "the share of devices (0 to 1) whose installs fail")
	fl.Float64Var(&failAttest, "fail-attest", 0, "the share of devices (0 to 1) whose attestation fails")
	fl.Uint64Var(&seed, "seed", 1, "the seed of the failure draw")
	fl.DurationVar(&duration, "duration", 0, "run rounds for this long")
	fl.BoolVar(&untilIdle, "until-idle", false, "run rounds until one in which no install succeeds (the default)")
	fl.BoolVar(&register, "register", false, "register every device at the TAM first (needs --token)")
	fl.StringArrayVar(&authorFiles, "author", nil, "the public key (PEM) of an author whose envelopes the devices install (repeatable)")
	fl.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return c
}

// tamHTTPClient is the HTTP client of the TEEP sessions.
func tamHTTPClient(caFile string) (*http.Client, error) {
	hc := &http.Client{Timeout: time.Minute}
	if caFile == "" {
		return hc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tam-ca: %w", err)
	}
	cfg, err := client.TLSConfig(pem)
	if err != nil {
		return nil, fmt.Errorf("--tam-ca %s: %w", caFile, err)
	}
	hc.Transport = &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: fleetIdleConns}
	return hc, nil
}

// sharedEvidence makes the one emulated device (in dir) whose evidence the
// fleet shares, booted once, and its evidence source (serialized: one TPM).
func sharedEvidence(ctx context.Context, dir string, tamKey *suit.Key) (fleet.Evidence, func(), error) {
	d, err := device.Init(ctx, dir, device.InitOptions{TAMKeys: []*suit.Key{tamKey}})
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: the shared emulated device: %w", err)
	}
	if _, err := d.Reboot(ctx, nil); err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("fleet: boot: %w", err)
	}
	src, err := d.Secure.Evidence()
	if err != nil || src == nil {
		d.Close()
		return nil, nil, fmt.Errorf("fleet: the emulated device makes no evidence: %v", err)
	}
	var mu sync.Mutex
	ev := func(nonce []byte) (string, []byte, error) {
		mu.Lock()
		defer mu.Unlock()
		b, err := src.Evidence(nonce)
		return challenge.EvidenceMediaType, b, err
	}
	return ev, func() { d.Close() }, nil
}

// registerFleet registers every device through the operator API: the
// shared endorsement with its own Agent key, the factory reference.
func registerFleet(ctx context.Context, cl *client.Client, f *fleet.Fleet, dir string) error {
	endorsement, err := os.ReadFile(device.EndorsementFile(dir))
	if err != nil {
		return err
	}
	reference, err := os.ReadFile(device.FactoryReferenceFile(dir))
	if err != nil {
		return err
	}
	for i, d := range f.Devices {
		e, err := d.Endorsement(endorsement)
		if err != nil {
			return err
		}
		if _, err := cl.AddDevice(ctx, catalog.DeviceRequest{Name: fmt.Sprintf("sim-%05d", i), Endorsement: e, Reference: reference}); err != nil {
			return fmt.Errorf("register device %s: %w", d.ID, err)
		}
	}
	return nil
}
