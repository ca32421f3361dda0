package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/evidence"
)

func (a *app) attestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "attest",
		Short: "Remote attestation: publish reference values, verify a device's evidence",
		Long: `A device proves what it booted and which TAs it holds with evidence (teeup device attest):
an EAT signed by its attestation key, bound by a TPM quote to its boot measurements. A
verifier checks it against the device's endorsement (DIR/identity/endorsement.json,
written by device init) and the reference values authors publish (attest reference).`,
		Example: `  teeup attest reference --key author.pub.pem --out reference.json n2.suit
  teeup device attest --dir dev --nonce 00112233445566778899aabbccddeeff --out evidence.cbor`,
		Args: noSubcommand,
		RunE: needSubcommand,
	}
	c.AddCommand(a.referenceCmd())
	return c
}

func (a *app) referenceCmd() *cobra.Command {
	var keyFiles []string
	var out string
	c := &cobra.Command{
		Use:   "reference --key PUB.pem [--key PUB2.pem]... --out REFERENCE.json ENVELOPE...",
		Short: "Write the reference values of envelopes: each image's or TA's digests, version and signers",
		Long: `Verify each ENVELOPE with the keys given and add the reference values of what it installs
(the secure or normal image, or a TA) to REFERENCE.json: its component, sequence number,
image digest, manifest digest and the IDs of the keys that signed it, exactly as a device
that booted or installed it claims them in its evidence. An existing REFERENCE.json keeps
its other versions (the same component and sequence number is replaced), so that one file
holds every release. The form maps onto CoMID reference triples (docs/attestation.md).`,
		Example: `  teeup attest reference --key author.pub.pem --key operator.pub.pem --out reference.json s2.suit n2.suit`,
		Args: minArgs(1, "at least one ENVELOPE"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if err := required(cmd, "key", "out"); err != nil {
				return err
			}
			keys, err := readPublicKeys(keyFiles)
			if err != nil {
				return err
			}
			var rv comid.ReferenceValues
			switch old, err := os.ReadFile(out); {
			case err == nil:
				prev, err := comid.DecodeReferenceValues(old)
				if err != nil {
					return fmt.Errorf("%s: %w", out, err)
				}
				rv = *prev
			case !errors.Is(err, fs.ErrNotExist):
				return err
			}
			var envs [][]byte
			for _, p := range pos {
				raw, err := a.readFile(p)
				if err != nil {
					return err
				}
				envs = append(envs, decodeMaybeHex(raw))
			}
			if err := evidence.Publish(&rv, keys, envs...); err != nil {
				return refused("attest reference", err)
			}
			b, err := rv.Encode()
			if err != nil {
				return err
			}
			if err := a.writeFile(out, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "%s: reference values of %d component versions\n", out, len(rv.Components))
			return nil
		},
	}
	c.Flags().StringArrayVar(&keyFiles, "key", nil, "a public (or private) key PEM the envelopes verify with")
	c.Flags().StringVar(&out, "out", "", "the reference values file to write or add to ('-': standard output)")
	return c
}

func (a *app) deviceAttestCmd() *cobra.Command {
	var dir, nonceHex, out string
	c := &cobra.Command{
		Use:   "attest --dir DIR --nonce HEX --out EVIDENCE.cbor",
		Short: "Have the device's secure world make evidence for a verifier's nonce",
		Long: `Ask the device's secure world for evidence bound to the verifier's nonce (8 to 64 bytes, in
hex): an EAT signed by the device's attestation key with what it booted and the TAs it
holds, a TPM quote over its boot measurements bound to that EAT, and the boot event log.
A running device is asked through its normal world, which relays the request and the
evidence and can change neither; a device that is off is powered on to answer (a boot,
as device reboot does) and off again. Check the evidence with teeup attest verify.`,
		Example: `  teeup device attest --dir dev --nonce 00112233445566778899aabbccddeeff --out evidence.cbor`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "dir", "nonce", "out"); err != nil {
				return err
			}
			nonce, err := hex.DecodeString(nonceHex)
			if err != nil {
				return usageError("device attest: --nonce: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			ev, err := normalworld.QueryEvidence(ctx, filepath.Join(dir, controlSocket), nonce)
			running := err == nil
			if errors.Is(err, control.ErrNoListener) {
				if device.Running(dir) {
					return fmt.Errorf("device attest: the device in %s runs but its normal world does not answer (booting, or halted)", dir)
				}
				ev, err = device.OfflineEvidence(ctx, dir, nonce)
			}
			if err != nil {
				return fmt.Errorf("device attest: %w", err)
			}
			if err := a.writeFile(out, ev, 0o644); err != nil {
				return err
			}
			how := "the device is off: it was powered on to answer"
			if running {
				how = "through its normal world"
			}
			fmt.Fprintf(a.stderr, "%s: evidence of %d bytes from the secure world (%s)\n", out, len(ev), how)
			return nil
		},
	}
	dirFlag(c, &dir)
	c.Flags().StringVar(&nonceHex, "nonce", "", "the verifier's nonce, 8 to 64 bytes in hex")
	c.Flags().StringVar(&out, "out", "", "where to write the evidence ('-': standard output)")
	return c
}
