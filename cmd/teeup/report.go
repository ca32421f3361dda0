package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// reportFlags are the process flags that shape the SUIT report.
type reportFlags struct {
	out, key, nonce    string
	capabilities, json bool
}

func (f *reportFlags) add(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.out, "report", "", "write the SUIT report (CBOR; COSE_Sign1 with --report-key) to this file")
	fs.StringVar(&f.key, "report-key", "", "the device's signing key (PEM) for the report")
	fs.StringVar(&f.nonce, "nonce", "", "hex nonce to put in the report")
	fs.BoolVar(&f.capabilities, "capabilities", false, "include the capability report")
	fs.BoolVar(&f.json, "report-json", false, "print the report as JSON")
}

func (f *reportFlags) options(dev *dryrun.Device) (suit.ReportOptions, error) {
	opts := suit.ReportOptions{Capabilities: f.capabilities}
	if f.nonce != "" {
		n, err := hex.DecodeString(f.nonce)
		if err != nil {
			return opts, usageError("--nonce is not hex: %v", err)
		}
		opts.Nonce = n
	}
	if dev.Fixed {
		for _, c := range dev.Components {
			opts.Components = append(opts.Components, suit.ComponentCapability{ID: c.ID})
		}
	}
	return opts, nil
}

// emitReport prints the report (a line, JSON with --report-json, CBOR
// diagnostic notation with --verbose) and writes it out, signed when a
// key is given.
func (a *app) emitReport(f *reportFlags, rep *suit.Report) error {
	w := a.stdout
	switch {
	case f.json:
		fmt.Fprintln(w, "report:")
		if err := writeJSON(w, reportJSON(rep)); err != nil {
			return err
		}
	case a.verbose:
		diag, err := suit.Diagnose(rep.Encode())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "report: %s\n", diag)
	default:
		fmt.Fprintf(w, "report: %s\n", resultLine(rep))
	}
	if f.out == "" {
		return nil
	}
	data := rep.Encode()
	if f.key != "" {
		keys, err := readSigningKeys([]string{f.key})
		if err != nil {
			return err
		}
		if data, err = rep.Sign(keys[0]); err != nil {
			return err
		}
	}
	return os.WriteFile(f.out, data, 0o644)
}

// resultLine says in words what a report's result is.
func resultLine(rep *suit.Report) string {
	if rep.Result == nil {
		return "success"
	}
	return fmt.Sprintf("%s (code %d) in %s at offset %d of component %d", rep.Result.Reason, rep.Result.Code,
		recordJSON(&rep.Result.Record).Section, rep.Result.Record.Offset, rep.Result.Record.Component)
}

// reportDoc is the JSON form of a SUIT report.
type reportDoc struct {
	ManifestURI    string         `json:"manifest_uri"`
	ManifestDigest string         `json:"manifest_digest"`
	Nonce          string         `json:"nonce,omitempty"`
	Records        []any          `json:"records"`
	Result         any            `json:"result"`
	Capabilities   *capabilityDoc `json:"capabilities,omitempty"`
	Signer         string         `json:"signer,omitempty"`
}

type recordDoc struct {
	ManifestID []uint64       `json:"manifest_id"`
	Section    string         `json:"section"`
	Offset     uint64         `json:"offset"`
	Component  uint64         `json:"component_index"`
	Properties map[string]any `json:"properties,omitempty"`
}

type claimsDoc struct {
	Component  string         `json:"system_component_id"`
	Properties map[string]any `json:"properties"`
}

type resultDoc struct {
	Code   int64     `json:"code"`
	Reason string    `json:"reason"`
	Record recordDoc `json:"record"`
}

type capabilityDoc struct {
	Components []string `json:"components"`
	Commands   []string `json:"commands"`
	Parameters []string `json:"parameters"`
	CryptAlgs  []int64  `json:"crypt_algs"`
	Envelope   []int64  `json:"envelope,omitempty"`
	Manifest   []int64  `json:"manifest,omitempty"`
	Common     []int64  `json:"common,omitempty"`
	Dependency []int64  `json:"dependency,omitempty"`
}

func reportJSON(rep *suit.Report) *reportDoc {
	doc := &reportDoc{ManifestURI: rep.ManifestURI, Records: []any{},
		ManifestDigest: fmt.Sprintf("%s:%x", digestName(rep.ManifestDigest.Alg), rep.ManifestDigest.Bytes)}
	if rep.Nonce != nil {
		doc.Nonce = hex.EncodeToString(rep.Nonce)
	}
	for _, e := range rep.Records {
		switch x := e.(type) {
		case *suit.ReportRecord:
			doc.Records = append(doc.Records, recordJSON(x))
		case *suit.SystemProperties:
			doc.Records = append(doc.Records, claimsDoc{Component: x.Component.String(), Properties: paramsJSON(x.Properties)})
		}
	}
	doc.Result = true
	if rep.Result != nil {
		doc.Result = resultDoc{Code: rep.Result.Code, Reason: rep.Result.Reason.String(), Record: recordJSON(&rep.Result.Record)}
	}
	if c := rep.Capabilities; c != nil {
		cd := &capabilityDoc{CryptAlgs: c.CryptAlgs, Envelope: c.Envelope, Manifest: c.Manifest, Common: c.Common, Dependency: c.Dependency}
		for _, cc := range c.Components {
			s := cc.ID.String()
			if cc.Wildcard {
				s += "*"
			}
			cd.Components = append(cd.Components, s)
		}
		for _, k := range c.Commands {
			cd.Commands = append(cd.Commands, suit.CommandName(k))
		}
		for _, k := range c.Parameters {
			cd.Parameters = append(cd.Parameters, suit.ParamName(k))
		}
		doc.Capabilities = cd
	}
	return doc
}

func recordJSON(r *suit.ReportRecord) recordDoc {
	section := suit.SequenceName(r.Section)
	if r.Section == suit.KeyCommon {
		section = "shared-sequence"
	}
	return recordDoc{ManifestID: r.ManifestID, Section: section, Offset: r.Offset, Component: r.Component, Properties: paramsJSON(r.Properties)}
}

func paramsJSON(p suit.Parameters) map[string]any {
	if len(p) == 0 {
		return nil
	}
	out := map[string]any{}
	for k, v := range p {
		out[suit.ParamName(k)] = paramValue(v)
	}
	return out
}

func (a *app) reportCmd() *cobra.Command {
	var keyPaths []string
	var macPath string
	var asJSON bool
	c := &cobra.Command{
		Use:   "report [--key DEVICE.pub.pem | --mac-key KEY] [--json] REPORT",
		Short: "Verify and read a SUIT report a device sent back (the status tracker's side)",
		Long: `Verify REPORT ("-": standard input), a SUIT report (draft-ietf-suit-report) signed by a
device's --key or MAC'd with --mac-key, and say what it reports: the manifest it is about,
the records, and the result. Without a key the report is only decoded, and said to be
NOT authenticated.`,
		Example: `  teeup manifest report --key device.pub.pem r.cbor
  teeup manifest report --key device.pub.pem --json r.cbor | jq .result`,
		Args: exactArgs(1, "one REPORT"),
		RunE: func(_ *cobra.Command, pos []string) error {
			raw, err := a.readFile(pos[0])
			if err != nil {
				return err
			}
			name := displayName(pos[0])
			say := a.say(asJSON)
			data := decodeMaybeHex(raw)
			var rep *suit.Report
			var signer string
			if len(keyPaths) == 0 && macPath == "" {
				if rep, err = suit.ParseReport(data); err != nil {
					return &plainError{plain: name + ": not a SUIT report (a signed report needs --key or --mac-key)", err: err}
				}
				fmt.Fprintf(say, "%s: NOT authenticated (no key given)\n", name)
			} else {
				keys, err := verificationKeys(keyPaths, macPath)
				if err != nil {
					return err
				}
				if rep, signer, err = suit.VerifyReport(data, keys); err != nil {
					return refused(name, err)
				}
				fmt.Fprintf(say, "%s: verified, signed by key %s\n", name, signer[:16])
			}
			if asJSON {
				doc := reportJSON(rep)
				doc.Signer = signer
				return writeJSON(a.stdout, doc)
			}
			if a.verbose {
				diag, err := suit.Diagnose(rep.Encode())
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, diag)
			}
			fmt.Fprintf(a.stdout, "manifest: %s:%x", digestName(rep.ManifestDigest.Alg), rep.ManifestDigest.Bytes)
			if rep.ManifestURI != "" {
				fmt.Fprintf(a.stdout, " (%s)", rep.ManifestURI)
			}
			fmt.Fprintf(a.stdout, ", %d record(s)\n", len(rep.Records))
			fmt.Fprintf(a.stdout, "result: %s\n", resultLine(rep))
			return nil
		},
	}
	c.Flags().StringArrayVar(&keyPaths, "key", nil, "the device's public key (PEM); repeat for several")
	c.Flags().StringVar(&macPath, "mac-key", "", "HMAC-SHA256 key file (raw bytes) for a MAC'd report")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}
