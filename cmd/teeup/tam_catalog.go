package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/client"
)

// tamCatalogCmds are the `teeup tam` commands of the catalog: author,
// publish, personalize, device, status. The tam group (tam.go) adds them.
func (a *app) tamCatalogCmds() []*cobra.Command {
	return []*cobra.Command{a.tamAuthorCmd(), a.tamPublishCmd(), a.tamPersonalizeCmd(), a.tamDeviceCmd(), a.tamStatusCmd()}
}

// tamRefused puts a refusal of the TAM in plain words: what the TAM said.
func tamRefused(what string, err error) error {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return &plainError{plain: fmt.Sprintf("%s: the TAM refused: %s", what, apiErr.Message), err: err, whole: true}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (a *app) tamAuthorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "author",
		Short: "Register the authors whose envelopes the TAM accepts",
		Args:  noSubcommand,
		RunE:  needSubcommand,
	}
	c.AddCommand(a.tamAuthorAddCmd(), a.tamAuthorListCmd())
	return c
}

func (a *app) tamAuthorAddCmd() *cobra.Command {
	var conn tamConn
	var name, keyFile, kind string
	var prefixes []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "add --name N --key PUB --prefix P... [--kind ta|firmware|operator]",
		Short: "Register an author: its public key and the component IDs it may publish",
		Long: `Register an author with the TAM (operator role): its public key (PEM) and the component-ID
prefixes its envelopes may touch, written TA/acme or ['TA','acme']. A TA author's prefixes
are under TA; a firmware author publishes the images (secure, normal); an operator co-signs
the secure image, which the TAM accepts only with a registered operator's co-signature.`,
		Example: `  teeup tam author add --name acme --key acme.pub.pem --prefix TA/acme
  teeup tam author add --name fw --kind firmware --key author.pub.pem --prefix secure --prefix normal
  teeup tam author add --name op --kind operator --key operator.pub.pem --prefix secure`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name", "key", "prefix"); err != nil {
				return err
			}
			key, err := a.readFile(keyFile)
			if err != nil {
				return err
			}
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			au, err := cl.AddAuthor(cmd.Context(), catalog.AuthorRequest{Name: name, Kind: kind, Key: string(key), Prefixes: prefixes})
			if err != nil {
				return tamRefused("tam author add", err)
			}
			if asJSON {
				return writeJSON(a.stdout, au)
			}
			fmt.Fprintf(a.stdout, "author %s (%s) registered: key %s, prefixes %s\n", au.Name, au.Kind, au.KeyID, strings.Join(au.Prefixes, " "))
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "the author's name")
	c.Flags().StringVar(&keyFile, "key", "", "its public key (PEM)")
	c.Flags().StringArrayVar(&prefixes, "prefix", nil, "a component-ID prefix it may publish (repeat)")
	c.Flags().StringVar(&kind, "kind", "ta", "ta, firmware or operator")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamAuthorListCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the registered authors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			all, err := cl.Authors(cmd.Context())
			if err != nil {
				return tamRefused("tam author list", err)
			}
			if asJSON {
				return writeJSON(a.stdout, all)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tPREFIXES\tKEY")
			for _, au := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", au.Name, au.Kind, strings.Join(au.Prefixes, " "), au.KeyID)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamPublishCmd() *cobra.Command {
	var conn tamConn
	var asJSON, hold bool
	c := &cobra.Command{
		Use:   "publish ENVELOPE [PAYLOAD...]",
		Short: "Publish a signed envelope and its detached payloads to the TAM",
		Long: `Publish a SUIT envelope, with the detached payloads it fetches, as the author your token
belongs to. The TAM accepts it only if it verifies with that author's registered key, every
component it touches is inside the author's prefixes, a secure image also carries a
registered operator's co-signature, and each payload's SHA-256 is one of the manifest's
image digests. Payloads are then served at /payloads/SHA256 (name that URI in the manifest).
Without --hold every device that needs it gets the envelope at its next session; with --hold
it waits for a release (teeup tam release create) and reaches devices only through a rollout.`,
		Example: `  teeup tam publish hello.suit hello.ta
  teeup tam publish --hold hello-v2.suit hello-v2.ta`,
		Args: minArgs(1, "an ENVELOPE"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			raw, err := a.readFile(pos[0])
			if err != nil {
				return err
			}
			env := decodeMaybeHex(raw)
			var payloads [][]byte
			for _, p := range pos[1:] {
				b, err := a.readFile(p)
				if err != nil {
					return err
				}
				payloads = append(payloads, b)
			}
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			publish := cl.Publish
			if hold {
				publish = cl.PublishHeld
			}
			e, err := publish(cmd.Context(), env, payloads)
			if err != nil {
				return tamRefused("tam publish "+displayName(pos[0]), err)
			}
			if asJSON {
				return writeJSON(a.stdout, e)
			}
			held := ""
			if e.Held {
				held = ", held for a release"
			}
			fmt.Fprintf(a.stdout, "published %s envelope %s: %s, sequence %d, %d payload(s)%s\n",
				e.Kind, e.Digest, strings.Join(e.Components, " "), e.SequenceNumber, len(e.Payloads), held)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&hold, "hold", false, "hold the envelope for a release: devices get it only through a rollout")
	conn.bind(c)
	return c
}

func (a *app) tamPersonalizeCmd() *cobra.Command {
	var conn tamConn
	var device, tc, file string
	var asJSON bool
	c := &cobra.Command{
		Use:   "personalize --device ID --tc TC --file F",
		Short: "Deliver personalization data of a TA to one device, encrypted to it",
		Long: `Store personalization data for one device's TA (operator role). The TAM encrypts it to the
device's key-agreement key (ECDH-ES+A128KW) in a manifest it signs for that device alone; the
device installs it under the TA's personalization component at its next session. The TAM
keeps only the ciphertext.`,
		Example: `  teeup tam personalize --device 3f2a... --tc TA/acme/hello --file hello.conf`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "device", "tc", "file"); err != nil {
				return err
			}
			data, err := a.readFile(file)
			if err != nil {
				return err
			}
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			e, err := cl.Personalize(cmd.Context(), catalog.PersonalizeRequest{Device: device, TC: tc, Data: data})
			if err != nil {
				return tamRefused("tam personalize", err)
			}
			if asJSON {
				return writeJSON(a.stdout, e)
			}
			fmt.Fprintf(a.stdout, "personalization of %s for device %s: envelope %s, sequence %d\n", tc, e.Device, e.Digest, e.SequenceNumber)
			return nil
		},
	}
	c.Flags().StringVar(&device, "device", "", "the device's ID (teeup tam device list)")
	c.Flags().StringVar(&tc, "tc", "", "the TA, TA/AUTHOR/NAME or ['TA','AUTHOR','NAME']")
	c.Flags().StringVar(&file, "file", "", "the personalization data")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamDeviceCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "device",
		Short: "Register the devices the TAM manages",
		Args:  noSubcommand,
		RunE:  needSubcommand,
	}
	c.AddCommand(a.tamDeviceAddCmd(), a.tamDeviceListCmd(), a.tamDeviceTagCmd())
	return c
}

// agreementKeyBeside is the agreement key a device publishes next to its
// endorsement (DIR/identity/agreement.pub.pem), if it is there.
func agreementKeyBeside(endorsement string) string {
	if endorsement == "-" {
		return "" // standard input has no folder
	}
	p := filepath.Join(filepath.Dir(endorsement), "agreement.pub.pem")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func (a *app) tamDeviceAddCmd() *cobra.Command {
	var conn tamConn
	var endorsement, reference, name, agreement string
	var asJSON bool
	c := &cobra.Command{
		Use:   "add --endorsement F [--reference F] [--name N] [--agreement-key PEM]",
		Short: "Register a device from its endorsement",
		Long: `Register a device (operator role) from the endorsement its factory published
(DIR/identity/endorsement.json): its ID at the TAM is the thumbprint of the TEEP Agent key
in it. --reference gives the reference values of its factory images; --agreement-key its
key-agreement key for personalization, by default the agreement.pub.pem beside the
endorsement.`,
		Example: `  teeup tam device add --endorsement dev/identity/endorsement.json --reference dev/factory-reference.json --name kitchen`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "endorsement"); err != nil {
				return err
			}
			req := catalog.DeviceRequest{Name: name}
			var err error
			if req.Endorsement, err = a.readFile(endorsement); err != nil {
				return err
			}
			if reference != "" {
				if req.Reference, err = a.readFile(reference); err != nil {
					return err
				}
			}
			if agreement == "" {
				agreement = agreementKeyBeside(endorsement)
			}
			if agreement != "" {
				b, err := a.readFile(agreement)
				if err != nil {
					return err
				}
				req.AgreementKey = string(b)
			}
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			d, err := cl.AddDevice(cmd.Context(), req)
			if err != nil {
				return tamRefused("tam device add", err)
			}
			if asJSON {
				return writeJSON(a.stdout, d)
			}
			fmt.Fprintf(a.stdout, "device %s registered as %s\n", d.Name, d.ID)
			if !d.HasAgreementKey {
				fmt.Fprintln(a.stderr, "note: no agreement key: the TAM cannot personalize TAs for this device")
			}
			return nil
		},
	}
	c.Flags().StringVar(&endorsement, "endorsement", "", "the device's endorsement (JSON)")
	c.Flags().StringVar(&reference, "reference", "", "the reference values of its factory images (JSON)")
	c.Flags().StringVar(&name, "name", "", "a name for people")
	c.Flags().StringVar(&agreement, "agreement-key", "", "its key-agreement public key (PEM)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamDeviceListCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the registered devices",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			all, err := cl.Devices(cmd.Context(), 0)
			if err != nil {
				return tamRefused("tam device list", err)
			}
			if asJSON {
				return writeJSON(a.stdout, catalog.DeviceListJSON{Devices: append([]catalog.DeviceJSON{}, all...)})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tREGISTERED")
			for _, d := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", d.ID, d.Name, d.Registered.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamStatusCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--json]",
		Short: "The fleet's counts, then each device's TCs and versions, last attestation, last report, last seen, errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			s, err := cl.Status(cmd.Context(), 0)
			if err != nil {
				return tamRefused("tam status", err)
			}
			if asJSON {
				return writeJSON(a.stdout, s)
			}
			if err := writeSummary(a.stdout, s.Summary); err != nil {
				return err
			}
			return writeStatusTable(a.stdout, s)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

// writeSummary prints the fleet's counts, a line each: devices by state,
// by attestation result, versions, last errors.
func writeSummary(w io.Writer, s *catalog.SummaryJSON) error {
	var b strings.Builder
	fmt.Fprintf(&b, "devices: %d (%d up, %d failing, %d never seen)\n", s.Devices, s.Up, s.Failing, s.NeverSeen)
	var parts []string
	for _, a := range s.ByAttestation {
		st := a.Status
		if st == "" {
			st = "not appraised"
		}
		parts = append(parts, fmt.Sprintf("%s %d", st, a.Devices))
	}
	fmt.Fprintf(&b, "attestation: %s\n", listOr(parts, "none"))
	parts = parts[:0]
	for _, v := range s.Versions {
		parts = append(parts, fmt.Sprintf("%s@%d %d", v.Component, v.SequenceNumber, v.Devices))
	}
	if s.MoreVersions > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", s.MoreVersions))
	}
	fmt.Fprintf(&b, "versions: %s\n", listOr(parts, "none reported"))
	parts = parts[:0]
	for _, e := range s.LastErrors {
		parts = append(parts, fmt.Sprintf("%q %d", e.Error, e.Devices))
	}
	if s.OtherErrors > 0 {
		parts = append(parts, fmt.Sprintf("others %d", s.OtherErrors))
	}
	fmt.Fprintf(&b, "last errors: %s\n\n", listOr(parts, "none"))
	_, err := io.WriteString(w, b.String())
	return err
}

// listOr joins parts with commas, or is none when there are no parts.
func listOr(parts []string, none string) string {
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ", ")
}

// writeStatusTable prints the TAM's status, one device a row.
func writeStatusTable(w io.Writer, s catalog.StatusJSON) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tNAME\tTCS\tATTESTATION\tLAST REPORT\tLAST SEEN\tERROR")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, d := range s.Devices {
		var tcs []string
		for _, tc := range d.TCs {
			tcs = append(tcs, fmt.Sprintf("%s@%d", tc.Component, tc.SequenceNumber))
		}
		att := ""
		if d.Attestation != nil {
			att = d.Attestation.Status
			if d.Attestation.Reason != "" {
				att += " (" + d.Attestation.Reason + ")"
			}
		}
		report := ""
		if r := d.LastReport; r != nil {
			var results []string
			for _, sr := range r.SUIT {
				results = append(results, sr.Result)
			}
			if r.Success {
				report = fmt.Sprintf("success [%s]", strings.Join(results, " "))
			} else {
				report = fmt.Sprintf("error %d %s [%s]", r.ErrCode, r.ErrMsg, strings.Join(results, " "))
			}
			report += " " + r.Time.UTC().Format(time.RFC3339)
		}
		seen := ""
		if !d.LastSeen.IsZero() {
			seen = d.LastSeen.UTC().Format(time.RFC3339)
		}
		id := d.ID
		if len(id) > 16 {
			id = id[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, d.Name, dash(strings.Join(tcs, " ")), dash(att), dash(report), dash(seen), dash(d.LastError))
	}
	return tw.Flush()
}
