package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/reference"
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
			if err := reference.Publish(&rv, keys, envs...); err != nil {
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
	var evidenceFile, nonceHex, endorsements, earFile, earKey string
	var references []string
	var asJSON, allowDebug bool
	c := &cobra.Command{
		Use:   "verify --evidence EVIDENCE.cbor --nonce HEX --endorsements E --reference R [--reference R2]... [--json] [--ear OUT.jwt --ear-key KEY.pem]",
		Short: "Verify a device's evidence and appraise it against reference values; exit 0 only when trustworthy",
		Long: `Verify EVIDENCE.cbor as a verifier that issued the nonce and registered the devices of E (an
endorsement.json, or a folder of them such as DIR/identity): the device is registered, its
EAT is signed by its attestation key and carries the nonce, its TPM quote is signed by its
endorsed TPM key over this EAT, the event log replays to the quoted PCR and the EAT's
images are the log's. Only then are its claims appraised: each image and TA must match a
version published in the reference values (the same digests, a published signer), the
device's class the one they are for, and debug must be disabled (--allow-debug to accept
it). The result is an AR4SI trustworthiness vector with, for each claim that is not
affirming, the reason; --ear writes it as an EAR (a JWT signed with --ear-key, a P-256
key such as manifest keygen --alg ES256 makes). The exit status is 0 only when the
device is trustworthy.`,
		Example: `  teeup attest verify --evidence evidence.cbor --nonce 00112233445566778899aabbccddeeff \
      --endorsements dev/identity --reference dev/factory-reference.json --reference reference.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "evidence", "nonce", "endorsements", "reference"); err != nil {
				return err
			}
			if (earFile == "") != (earKey == "") {
				return usageError("attest verify: --ear and --ear-key go together")
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
			o, err := appraiseEvidence(raw, ends, refs, nonces, attest.Policy{AllowDebugInsecure: allowDebug})
			if err != nil {
				return err
			}
			if earFile != "" {
				key, err := readEARKey(earKey)
				if err != nil {
					return err
				}
				jwt, err := o.ear(key)
				if err != nil {
					return err
				}
				if err := a.writeFile(earFile, jwt, 0o644); err != nil {
					return err
				}
			}
			doc := o.doc()
			if asJSON {
				if err := writeJSON(a.stdout, doc); err != nil {
					return err
				}
			} else {
				printAppraisal(a, doc)
			}
			if !doc.Trustworthy {
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
	f.StringVar(&earFile, "ear", "", "write the attestation result as an EAR (signed JWT) here")
	f.StringVar(&earKey, "ear-key", "", "the verifier's P-256 private key PEM that signs the EAR")
	return c
}

var errNotTrustworthy = errors.New("see the result for why")

// earOptions identify this verifier in its attestation results.
var earOptions = attest.ResultOptions{Build: "teeup attest", Developer: "https://github.com/teeup/teeup"}

// outcome is what became of evidence: refused by the verifier (refusal),
// or verified and appraised.
type outcome struct {
	refusal   error
	appraisal *attest.Appraisal
}

// ear is the outcome as an EAR signed with key.
func (o *outcome) ear(key crypto.Signer) ([]byte, error) {
	if o.refusal != nil {
		return attest.RefusalEAR(o.refusal, key, earOptions)
	}
	return o.appraisal.EAR(key, earOptions)
}

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

// appraiseEvidence verifies evidence with attest's verifier for the
// devices of ends and the nonces of nonces, then appraises what verified
// against refs. A refusal of the evidence is an outcome (never
// trustworthy, with its reason); an error is a fault of the verifier.
func appraiseEvidence(raw []byte, ends attest.Endorsements, refs *comid.ReferenceValues, nonces *attest.NonceStore, p attest.Policy) (*outcome, error) {
	verifier := &attest.Verifier{Endorsements: ends, Nonces: nonces}
	ev, err := attest.DecodeEvidence(raw)
	if err == nil {
		var v *attest.Verified
		if v, err = verifier.Verify(ev); err == nil {
			return &outcome{appraisal: attest.Appraise(v, refs, p)}, nil
		}
	}
	if !errors.Is(err, attest.ErrRejected) {
		return nil, err
	}
	return &outcome{refusal: err}, nil
}

// readEndorsements reads an endorsement file, or every *.json of a
// folder, and registers each device: its ueid, class and keys.
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
	var es attest.Endorsements
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		e, err := comid.DecodeEndorsement(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		dk, err := e.DeviceKey()
		if err != nil {
			return nil, err
		}
		tk, err := e.TPMKey()
		if err != nil {
			return nil, err
		}
		es = append(es, attest.Endorsement{UEID: e.UEID, OEMID: e.Class.OEMID, HWModel: e.Class.HWModel, AttestationKey: dk, TPMKey: tk})
	}
	return es, nil
}

// readEARKey reads the verifier's P-256 signing key (PKCS #8 PEM).
func readEARKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s: not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: an EAR is signed ES256: want a P-256 key", path)
	}
	return ec, nil
}

// appraisalDoc is the result as attest verify prints it.
type appraisalDoc struct {
	Trustworthy bool                 `json:"trustworthy"`
	Status      string               `json:"status"`
	Vector      *ear.TrustVector     `json:"trust_vector,omitempty"`
	UEID        comid.Hex            `json:"ueid,omitempty"`
	BootCount   uint64               `json:"bootcount,omitempty"`
	Components  []appraisedComponent `json:"components,omitempty"`
	Reasons     []appraisalReason    `json:"reasons,omitempty"`
}

type appraisedComponent struct {
	Component      string    `json:"component"`
	Kind           string    `json:"kind"`
	SequenceNumber uint64    `json:"sequence_number"`
	Digest         comid.Hex `json:"digest"`
	Affirmed       bool      `json:"affirmed"`
	Reason         string    `json:"reason,omitempty"`
}

type appraisalReason struct {
	Claim     string `json:"claim"`
	Component string `json:"component,omitempty"`
	Detail    string `json:"detail"`
}

func (o *outcome) doc() appraisalDoc {
	if o.refusal != nil {
		return appraisalDoc{Status: ear.TrustTierContraindicated.String(), Reasons: []appraisalReason{{Claim: "evidence", Detail: o.refusal.Error()}}}
	}
	ap := o.appraisal
	d := appraisalDoc{Trustworthy: ap.Trustworthy(), Status: ap.Status.String(), Vector: &ap.Vector,
		UEID: ap.Claims.UEID, BootCount: ap.Claims.BootCount}
	for _, r := range ap.Reasons {
		d.Reasons = append(d.Reasons, appraisalReason{Claim: r.Claim, Component: r.Component, Detail: r.Detail})
	}
	for _, m := range ap.Claims.Components {
		c := appraisedComponent{Component: m.Name, Kind: m.Kind.String(), SequenceNumber: m.Sequence, Digest: m.Digest, Affirmed: true}
		for _, r := range ap.Reasons {
			if r.Component == m.Name {
				c.Affirmed, c.Reason = false, r.Detail
			}
		}
		d.Components = append(d.Components, c)
	}
	return d
}

func printAppraisal(a *app, d appraisalDoc) {
	w := a.stdout
	verdict := "NOT trustworthy"
	if d.Trustworthy {
		verdict = "trustworthy"
	}
	if d.UEID != nil {
		fmt.Fprintf(w, "device %x: %s (%s), boot count %d\n", []byte(d.UEID), verdict, d.Status, d.BootCount)
	} else {
		fmt.Fprintf(w, "evidence refused: %s\n", verdict)
	}
	for _, c := range d.Components {
		status := "affirmed"
		if !c.Affirmed {
			status = "NOT affirmed: " + c.Reason
		}
		fmt.Fprintf(w, "  %-5s %s sequence %d, sha256:%x: %s\n", c.Kind, c.Component, c.SequenceNumber, []byte(c.Digest)[:min(8, len(c.Digest))], status)
	}
	for _, r := range d.Reasons {
		if r.Component == "" {
			fmt.Fprintf(w, "  %s: %s\n", r.Claim, r.Detail)
		}
	}
}

// verifierHandler is the verifier over HTTP (Veraison's challenge-response
// API) for the devices of ends, appraised against refs; its results are
// EARs signed with key.
func verifierHandler(ends attest.Endorsements, refs *comid.ReferenceValues, p attest.Policy, key crypto.Signer) http.Handler {
	s := &challenge.Server{Appraise: func(ev []byte, nonces *attest.NonceStore) (string, error) {
		o, err := appraiseEvidence(ev, ends, refs, nonces, p)
		if err != nil {
			return "", err
		}
		jwt, err := o.ear(key)
		return string(jwt), err
	}}
	return s.Handler()
}

func (a *app) attestServeCmd() *cobra.Command {
	var addr, endorsements, earKey string
	var references []string
	var allowDebug bool
	c := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] --endorsements E --reference R [--reference R2]... --ear-key KEY.pem",
		Short: "Serve the verifier over HTTP with Veraison's challenge-response API",
		Long: `Serve the verifier of attest verify over HTTP, with Veraison's challenge-response API, until
Ctrl-C or SIGTERM: POST /challenge-response/v1/newSession?nonceSize=32 opens a session with
a fresh nonce (Location: session/ID); POST /challenge-response/v1/session/ID with the
device's evidence (Content-Type: application/vnd.teeup.evidence+cbor) answers with the
completed session, whose result is the EAR (a JWT signed with --ear-key, ES256); GET and
DELETE read and remove a session. Each nonce is good for its session only, once, for two
minutes.`,
		Example: `  teeup manifest keygen --alg ES256 --out verifier.pem
  teeup attest serve --addr 127.0.0.1:8443 --endorsements dev/identity --reference dev/factory-reference.json --ear-key verifier.pem`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "endorsements", "reference", "ear-key"); err != nil {
				return err
			}
			ends, refs, err := readVerifierInputs(endorsements, references)
			if err != nil {
				return err
			}
			key, err := readEARKey(earKey)
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "verifier at http://%s/challenge-response/v1/ for %d device(s), %d reference values, until Ctrl-C\n",
				l.Addr(), len(ends), len(refs.Components))
			return a.serveUntilSignal(l, verifierHandler(ends, refs, attest.Policy{AllowDebugInsecure: allowDebug}, key), "attest serve")
		},
	}
	f := c.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8443", "address to listen on")
	f.StringVar(&endorsements, "endorsements", "", "an endorsement.json, or a folder of them")
	f.StringArrayVar(&references, "reference", nil, "a reference values file (repeat for several)")
	f.StringVar(&earKey, "ear-key", "", "the verifier's P-256 private key PEM that signs the EARs")
	f.BoolVar(&allowDebug, "allow-debug", false, "accept a device whose debug is enabled")
	return c
}
