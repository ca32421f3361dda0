package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// reportFlags are the process flags that shape the SUIT report.
type reportFlags struct {
	out          *string
	key          *string
	nonce        *string
	capabilities *bool
	json         *bool
}

func addReportFlags(fs *flag.FlagSet) *reportFlags {
	return &reportFlags{
		out:          fs.String("report", "", "write the SUIT report (CBOR; COSE_Sign1 with --report-key) to this file"),
		key:          fs.String("report-key", "", "the device's signing key (PEM) for the report"),
		nonce:        fs.String("nonce", "", "hex nonce to put in the report"),
		capabilities: fs.Bool("capabilities", false, "include the capability report"),
		json:         fs.Bool("report-json", false, "print the report as JSON instead of diagnostic notation"),
	}
}

func (f *reportFlags) options(dev *dryrun.Device) (suit.ReportOptions, error) {
	opts := suit.ReportOptions{Capabilities: *f.capabilities}
	if *f.nonce != "" {
		n, err := hex.DecodeString(*f.nonce)
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

// emit prints the report and writes it out, signed when a key is given.
func (f *reportFlags) emit(w io.Writer, rep *suit.Report) error {
	if *f.json {
		fmt.Fprintln(w, "report:")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reportJSON(rep)); err != nil {
			return err
		}
	} else {
		diag, err := suit.Diagnose(rep.Encode())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "report: %s\n", diag)
	}
	if *f.out == "" {
		return nil
	}
	data := rep.Encode()
	if *f.key != "" {
		keys, err := readSigningKeys([]string{*f.key})
		if err != nil {
			return err
		}
		if data, err = rep.Sign(keys[0]); err != nil {
			return err
		}
	}
	return os.WriteFile(*f.out, data, 0o644)
}

// reportDoc is the JSON form of a SUIT report.
type reportDoc struct {
	ManifestURI    string         `json:"manifest-uri"`
	ManifestDigest string         `json:"manifest-digest"`
	Nonce          string         `json:"nonce,omitempty"`
	Records        []any          `json:"records"`
	Result         any            `json:"result"`
	Capabilities   *capabilityDoc `json:"capabilities,omitempty"`
	Signer         string         `json:"signer,omitempty"`
}

type recordDoc struct {
	ManifestID []uint64       `json:"manifest-id"`
	Section    string         `json:"section"`
	Offset     uint64         `json:"offset"`
	Component  uint64         `json:"component-index"`
	Properties map[string]any `json:"properties,omitempty"`
}

type claimsDoc struct {
	Component  string         `json:"system-component-id"`
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
	CryptAlgs  []int64  `json:"crypt-algs"`
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

// manifestReport verifies (or, with no key, only decodes) a SUIT report:
// the status tracker's side.
func manifestReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest report", flag.ContinueOnError)
	var keyPaths listFlag
	fs.Var(&keyPaths, "key", "the device's public key (PEM); repeat for several")
	macPath := fs.String("mac-key", "", "HMAC-SHA256 key file (raw bytes) for a MAC'd report")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("manifest report: need one report file")
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	data := decodeMaybeHex(raw)
	var rep *suit.Report
	var signer string
	if len(keyPaths) == 0 && *macPath == "" {
		if rep, err = suit.ParseReport(data); err != nil {
			return fmt.Errorf("%s: %w (a signed report needs --key or --mac-key)", pos[0], err)
		}
		fmt.Fprintf(stdout, "%s: NOT authenticated (no key given)\n", pos[0])
	} else {
		keys, err := verificationKeys(keyPaths, *macPath)
		if err != nil {
			return err
		}
		if rep, signer, err = suit.VerifyReport(data, keys); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "%s: verified, signed by key %s\n", pos[0], signer[:16])
	}
	if *asJSON {
		doc := reportJSON(rep)
		doc.Signer = signer
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	diag, err := suit.Diagnose(rep.Encode())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, diag)
	if rep.Result != nil {
		fmt.Fprintf(stdout, "result: %s (code %d) in %s at offset %d of component %d\n", rep.Result.Reason, rep.Result.Code,
			recordJSON(&rep.Result.Record).Section, rep.Result.Record.Offset, rep.Result.Record.Component)
	} else {
		fmt.Fprintln(stdout, "result: success")
	}
	return nil
}
