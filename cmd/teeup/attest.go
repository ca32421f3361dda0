package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/attest/check"
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
	c.AddCommand(a.referenceCmd(), a.verifyEvidenceCmd(), a.attestServeCmd())
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
		Args:    minArgs(1, "at least one ENVELOPE"),
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

func (a *app) verifyEvidenceCmd() *cobra.Command {
	var evidenceFile, nonceHex, endorsements string
	var references []string
	var asJSON, allowDebug bool
	c := &cobra.Command{
		Use:   "verify --evidence EVIDENCE.cbor --nonce HEX --endorsements E --reference R [--reference R2]... [--json]",
		Short: "Verify a device's evidence and appraise it against reference values; exit 0 only when trustworthy",
		Long: `Verify EVIDENCE.cbor as a verifier that issued the nonce and registered the devices of E (an
endorsement.json, or a folder of them such as DIR/identity): the device is registered, its
EAT is signed by its attestation key and carries the nonce, its TPM quote is signed by its
endorsed TPM key over this EAT, the event log replays to the quoted PCR and the EAT's
images are the log's. Only then are its claims appraised: each image and TA must match a
version published in the reference values (the same digests, a published signer), the
device's class the one they are for, and debug must be disabled (--allow-debug to accept
it). The result says, for each component, whether it is affirmed or why not. The exit
status is 0 only when the device is trustworthy.`,
		Example: `  teeup attest verify --evidence evidence.cbor --nonce 00112233445566778899aabbccddeeff \
      --endorsements dev/identity --reference dev/factory-reference.json --reference reference.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "evidence", "nonce", "endorsements", "reference"); err != nil {
				return err
			}
			nonce, err := hex.DecodeString(nonceHex)
			if err != nil {
				return usageError("attest verify: --nonce: %v", err)
			}
			ends, refs, err := readVerifierInputs(endorsements, references)
			if err != nil {
				return err
			}
			raw, err := a.readFile(evidenceFile)
			if err != nil {
				return err
			}
			nonces := &attest.NonceStore{}
			if err := nonces.Register(nonce); err != nil {
				return usageError("attest verify: --nonce: %v", err)
			}
			res, err := appraiseEvidence(raw, ends, refs, nonces, check.Policy{AllowDebug: allowDebug})
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.stdout, res); err != nil {
					return err
				}
			} else {
				printAppraisal(a, res)
			}
			if !res.Trustworthy {
				return &plainError{plain: "attest verify: the device is not trustworthy (the result above says why)", err: errNotTrustworthy, whole: true}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&evidenceFile, "evidence", "", "the evidence ('-': standard input)")
	f.StringVar(&nonceHex, "nonce", "", "the nonce the verifier gave the device, in hex")
	f.StringVar(&endorsements, "endorsements", "", "an endorsement.json, or a folder of them")
	f.StringArrayVar(&references, "reference", nil, "a reference values file (repeat for several)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&allowDebug, "allow-debug", false, "accept a device whose debug is enabled")
	return c
}

var errNotTrustworthy = errors.New("see the result for why")

// readVerifierInputs reads what a verifier trusts: the endorsements (a
// file, or every *.json of a folder) and the reference values (every
// file, merged).
func readVerifierInputs(endorsements string, references []string) (attest.Endorsements, *comid.ReferenceValues, error) {
	ends, err := readEndorsements(endorsements)
	if err != nil {
		return nil, nil, err
	}
	var refs comid.ReferenceValues
	for _, p := range references {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		rv, err := comid.DecodeReferenceValues(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(refs.Class.OEMID) == 0 {
			refs.Class = rv.Class
		}
		refs.Add(rv.Components...)
	}
	return ends, &refs, nil
}

// appraiseEvidence verifies evidence with a verifier that registered ends
// and issued the nonces of nonces, and appraises what verified against
// refs. A refusal of the evidence is a result (not trustworthy, with its
// reason); an error is a fault of the verifier.
func appraiseEvidence(raw []byte, ends attest.Endorsements, refs *comid.ReferenceValues, nonces *attest.NonceStore, p check.Policy) (*check.Result, error) {
	verifier := &attest.Verifier{Endorsements: ends, Nonces: nonces}
	ev, err := attest.DecodeEvidence(raw)
	if err == nil {
		var v *attest.Verified
		if v, err = verifier.Verify(ev); err == nil {
			return check.Appraise(v, refs, p), nil
		}
	}
	if !errors.Is(err, attest.ErrRejected) {
		return nil, err
	}
	return &check.Result{Reasons: []string{err.Error()}}, nil
}

// readEndorsements reads an endorsement file, or every *.json of a folder.
func readEndorsements(path string) (attest.Endorsements, error) {
	files := []string{path}
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if st.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.json")); err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s holds no endorsement (*.json)", path)
		}
	}
	var es []*comid.Endorsement
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		e, err := comid.DecodeEndorsement(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		es = append(es, e)
	}
	return check.Endorsements(es...)
}

func printAppraisal(a *app, r *check.Result) {
	w := a.stdout
	verdict := "NOT trustworthy"
	if r.Trustworthy {
		verdict = "trustworthy"
	}
	fmt.Fprintf(w, "device %x: %s\n", []byte(r.UEID), verdict)
	if r.UEID != nil {
		fmt.Fprintf(w, "boot count %d, debug %s\n", r.BootCount, r.Debug)
	}
	for _, c := range r.Components {
		status := "affirmed"
		if !c.Affirmed {
			status = "NOT affirmed: " + c.Reason
		}
		fmt.Fprintf(w, "  %-5s %s sequence %d, sha256:%x: %s\n", c.Kind, c.Component, c.SequenceNumber, []byte(c.Digest)[:min(8, len(c.Digest))], status)
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(w, "  %s\n", reason)
	}
}

// verifierHandler is the verifier over HTTP (Veraison's challenge-response
// API) for the devices of ends, appraised against refs.
func verifierHandler(ends attest.Endorsements, refs *comid.ReferenceValues, p check.Policy) http.Handler {
	s := &challenge.Server{Appraise: func(ev []byte, nonces *attest.NonceStore) (string, error) {
		res, err := appraiseEvidence(ev, ends, refs, nonces, p)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(res)
		return string(b), err
	}}
	return s.Handler()
}

func (a *app) attestServeCmd() *cobra.Command {
	var addr, endorsements string
	var references []string
	var allowDebug bool
	c := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] --endorsements E --reference R [--reference R2]...",
		Short: "Serve the verifier over HTTP with Veraison's challenge-response API",
		Long: `Serve the verifier of attest verify over HTTP, with Veraison's challenge-response API, until
Ctrl-C or SIGTERM: POST /challenge-response/v1/newSession?nonceSize=32 opens a session with
a fresh nonce (Location: session/ID); POST /challenge-response/v1/session/ID with the
device's evidence (Content-Type: application/vnd.teeup.evidence+cbor) answers with the
completed session, whose result is the appraisal; GET and DELETE read and remove a
session. Each nonce is good for its session only, once, for two minutes.`,
		Example: `  teeup attest serve --addr 127.0.0.1:8443 --endorsements dev/identity --reference dev/factory-reference.json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "endorsements", "reference"); err != nil {
				return err
			}
			ends, refs, err := readVerifierInputs(endorsements, references)
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "verifier at http://%s/challenge-response/v1/ for %d device(s), %d reference values, until Ctrl-C\n",
				l.Addr(), len(ends), len(refs.Components))
			return a.serveUntilSignal(l, verifierHandler(ends, refs, check.Policy{AllowDebug: allowDebug}), "attest serve")
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8443", "address to listen on")
	f.StringVar(&endorsements, "endorsements", "", "an endorsement.json, or a folder of them")
	f.StringArrayVar(&references, "reference", nil, "a reference values file (repeat for several)")
	f.BoolVar(&allowDebug, "allow-debug", false, "accept a device whose debug is enabled")
	return c
}
