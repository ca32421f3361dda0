package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

func (a *app) manifestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "manifest",
		Short: "Make keys; build, sign, verify and inspect SUIT manifests; run one on a dry-run device",
		Long: `The author's side of an update: signing keys, SUIT envelopes built from a JSON spec
(docs/spec.md), co-signatures, verification, inspection, a dry run, and the SUIT reports
devices send back.`,
		Example: `  teeup manifest keygen --out author.pem
  teeup manifest create spec.json --key author.pem --out update.suit
  teeup manifest verify --key author.pub.pem update.suit
  teeup manifest inspect --json update.suit`,
		Args: noSubcommand,
		RunE: needSubcommand,
	}
	c.AddCommand(a.keygenCmd(), a.createCmd(), a.signCmd(), a.verifyCmd(), a.inspectCmd(), a.processCmd(), a.reportCmd())
	return c
}

func (a *app) keygenCmd() *cobra.Command {
	var algName, out string
	var force bool
	c := &cobra.Command{
		Use:   "keygen --out KEY.pem [--alg ES256|ESP256|ES384|Ed25519]",
		Short: "Make a signing key: KEY.pem (private, 0600) and KEY.pub.pem (public)",
		Long: `Make a signing key pair: the private key in --out (mode 0600), the public key beside it
as NAME.pub.pem. An existing private key is never overwritten unless --force.`,
		Example: "  teeup manifest keygen --out author.pem\n  teeup manifest keygen --alg Ed25519 --out operator.pem",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "out"); err != nil {
				return err
			}
			alg, err := suit.ParseAlg(algName)
			if err != nil {
				return usageError("manifest keygen: %v", err)
			}
			key, err := suit.GenerateSigningKey(alg)
			if err != nil {
				return err
			}
			priv, err := key.MarshalPEM()
			if err != nil {
				return err
			}
			pub, err := key.MarshalPublicPEM()
			if err != nil {
				return err
			}
			pubPath := strings.TrimSuffix(out, ".pem") + ".pub.pem"
			if err := writeNewFile(out, priv, 0o600, force); err != nil {
				return err
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return err
			}
			k, err := key.Public()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s and %s (%s, key id %s)\n", out, pubPath, suit.AlgName(alg), k.ID[:16])
			return nil
		},
	}
	c.Flags().StringVar(&algName, "alg", "ES256", "signature algorithm: ES256, ESP256, ES384 or Ed25519")
	c.Flags().StringVar(&out, "out", "", "private key file (PEM); the public key goes to NAME.pub.pem")
	c.Flags().BoolVar(&force, "force", false, "replace an existing private key")
	return c
}

func (a *app) createCmd() *cobra.Command {
	var keyPaths []string
	var integrate bool
	var out, publish, vendorDomain, className string
	c := &cobra.Command{
		Use:   "create SPEC.json --key KEY.pem [--key KEY2.pem] --out ENVELOPE",
		Short: "Build a SUIT envelope from a JSON spec and sign it",
		Long: `Build a SUIT envelope from SPEC.json (docs/spec.md: the components, their payload files or
URIs, encryption, sequences) and sign it with each --key. SPEC.json "-" reads the spec
from standard input (its files relative to the current folder); --out - writes the
envelope to standard output.

The vendor and class IDs may be derived from names, as draft-ietf-suit-manifest-37
§8.4.8 recommends: --vendor-domain example.com --class-name "sensor-v2" give
UUIDv5(DNS, example.com) and UUIDv5(vendor ID, sensor-v2).`,
		Example: `  teeup manifest create spec.json --key author.pem --out update.suit
  teeup manifest create spec.json --key author.pem --key operator.pem --integrate --out update.suit
  teeup manifest create spec.json --vendor-domain arm.com --class-name suit --key author.pem --out -`,
		Args: exactArgs(1, "one SPEC.json"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if err := required(cmd, "key", "out"); err != nil {
				return err
			}
			if (vendorDomain == "") != (className == "") && className != "" {
				return usageError("manifest create: --class-name needs --vendor-domain")
			}
			opts := author.SpecOptions{IntegrateAll: integrate}
			if vendorDomain != "" {
				v := author.VendorID(vendorDomain)
				opts.VendorID = v[:]
				if className != "" {
					c := author.ClassID(v, className)
					opts.ClassID = c[:]
				}
			}
			spec, err := a.readSpec(pos[0], opts)
			if err != nil {
				return err
			}
			keys, err := readSigningKeys(keyPaths)
			if err != nil {
				return err
			}
			env, detached, err := author.BuildDetached(spec)
			if err != nil {
				return err
			}
			say := a.say(out == stdio)
			if len(detached) > 0 {
				dir := publish
				if dir == "" {
					dir = "."
					if out != stdio {
						dir = filepath.Dir(out)
					}
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				uris := slices.Sorted(maps.Keys(detached))
				for _, uri := range uris {
					name := filepath.Join(dir, publishName(uri))
					if err := os.WriteFile(name, detached[uri], 0o644); err != nil {
						return err
					}
					fmt.Fprintf(say, "publish %s at %s (ciphertext, %d bytes)\n", name, uri, len(detached[uri]))
				}
			}
			for _, k := range keys {
				if err := env.Sign(k); err != nil {
					return err
				}
			}
			data := env.Encode()
			if err := a.writeFile(out, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(say, "wrote %s: %d bytes, sequence number %d, %d component(s), %d signature(s)\n",
				displayOut(out), len(data), spec.SequenceNumber, len(spec.Components), len(keys))
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&keyPaths, "key", nil, "signing key (PEM); repeat to co-sign")
	f.BoolVar(&integrate, "integrate", false, "carry every payload file in the envelope")
	f.StringVar(&out, "out", "", `envelope file to write ("-": standard output)`)
	f.StringVar(&publish, "publish", "", "folder for the ciphertexts of encrypted fetched payloads (default: beside --out)")
	f.StringVar(&vendorDomain, "vendor-domain", "", "derive the vendor ID from this domain name (UUIDv5)")
	f.StringVar(&className, "class-name", "", "derive the class ID from this model name under the vendor ID (UUIDv5)")
	return c
}

// readSpec reads SPEC.json, or the spec on standard input for "-" (its
// files then relative to the current folder).
func (a *app) readSpec(path string, opts author.SpecOptions) (*author.Manifest, error) {
	if path == stdio {
		return author.ReadSpec(a.stdin, "standard input", ".", opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return author.ReadSpec(f, path, filepath.Dir(path), opts)
}

// displayOut is how messages call an output file: "-" is standard output.
func displayOut(path string) string {
	if path == stdio {
		return "standard output"
	}
	return path
}

// publishName is the file name an encrypted payload is written under: the
// last path element of its URI.
func publishName(uri string) string {
	name := path.Base(uri)
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		name = name[:i]
	}
	if name == "" || name == "." || name == "/" || name == ".." {
		name = "payload"
	}
	return name
}

func (a *app) signCmd() *cobra.Command {
	var keyPath, out string
	var inPlace bool
	c := &cobra.Command{
		Use:   "sign --key KEY.pem (--out SIGNED | --in-place) ENVELOPE",
		Short: "Add a signature to an envelope (a co-signature)",
		Long: `Add a signature by --key to ENVELOPE, keeping the signatures it has: a device operator
co-signs what the author signed. The result goes to --out ("-": standard output); the
input is replaced only with --in-place.`,
		Example: `  teeup manifest sign --key operator.pem --out update-cosigned.suit update.suit
  teeup manifest sign --key operator.pem --in-place update.suit`,
		Args: exactArgs(1, "one ENVELOPE"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if err := required(cmd, "key"); err != nil {
				return err
			}
			if (out == "") == !inPlace {
				return usageError("manifest sign: say where the signed envelope goes: --out FILE or --in-place")
			}
			keys, err := readSigningKeys([]string{keyPath})
			if err != nil {
				return err
			}
			env, err := a.readEnvelope(pos[0])
			if err != nil {
				return err
			}
			if err := env.Sign(keys[0]); err != nil {
				return err
			}
			dst := out
			if inPlace {
				if pos[0] == stdio {
					return usageError("manifest sign: --in-place needs a file, not standard input")
				}
				dst = pos[0]
			}
			if err := a.writeFile(dst, env.Encode(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.say(dst == stdio), "signed %s with %s\n", displayOut(dst), suit.AlgName(keys[0].Alg))
			return nil
		},
	}
	c.Flags().StringVar(&keyPath, "key", "", "signing key (PEM)")
	c.Flags().StringVar(&out, "out", "", `signed envelope to write ("-": standard output)`)
	c.Flags().BoolVar(&inPlace, "in-place", false, "replace the input envelope with the signed one")
	return c
}

// verifyDoc is what manifest verify --json reports.
type verifyDoc struct {
	File           string   `json:"file"`
	Verified       bool     `json:"verified"`
	SequenceNumber uint64   `json:"sequence_number,omitempty"`
	Signers        []string `json:"signers,omitempty"` // key IDs (hex) whose signature verified
	Keys           int      `json:"keys"`
	Error          string   `json:"error,omitempty"`
}

func (a *app) verifyCmd() *cobra.Command {
	var keyPaths []string
	var macPath string
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify (--key PUB.pem... | --mac-key KEY) ENVELOPE",
		Short: "Check an envelope's signatures; exit 0 only if it authenticates",
		Long: `Check that ENVELOPE ("-": standard input) decodes, that its manifest matches the digest
its authentication block covers, and that a signature by one of the --key public keys (or
a MAC with --mac-key) verifies. Exit 0 only then. With --json the result is one JSON
object on standard output, also when verification fails (exit 1).`,
		Example: `  teeup manifest verify --key author.pub.pem update.suit
  teeup manifest verify --key author.pub.pem --key operator.pub.pem --json update.suit`,
		Args: exactArgs(1, "one ENVELOPE"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if len(keyPaths) == 0 && macPath == "" {
				return usageError("manifest verify: needs --key or --mac-key")
			}
			keys, err := verificationKeys(keyPaths, macPath)
			if err != nil {
				return err
			}
			doc := verifyDoc{File: displayName(pos[0]), Keys: len(keys)}
			env, err := a.readEnvelope(pos[0])
			var v *suit.Verified
			if err == nil {
				v, err = env.Authenticate(keys)
				err = refused(displayName(pos[0]), err)
			}
			if err == nil {
				doc.Verified, doc.SequenceNumber = true, v.Manifest.SequenceNumber
				doc.Signers = append(doc.Signers, v.Signers...)
			} else {
				doc.Error = a.message(err)
			}
			if asJSON {
				if jerr := writeJSON(a.stdout, doc); jerr != nil {
					return jerr
				}
			}
			if err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(a.stdout, "%s: verified, sequence number %d, signed by %d of %d key(s)\n",
					doc.File, doc.SequenceNumber, len(doc.Signers), len(keys))
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&keyPaths, "key", nil, "trusted public key (PEM; a private key names its public half); repeat for several")
	c.Flags().StringVar(&macPath, "mac-key", "", "HMAC-SHA256 key file (raw bytes) for COSE_Mac0 manifests")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func (a *app) processCmd() *cobra.Command {
	var keyPaths, payloads, anchorSpecs []string
	var macPath, kekPath, agreementPath, devicePath, out string
	var simulate bool
	rf := &reportFlags{}
	c := &cobra.Command{
		Use:   "process (--key PUB.pem | --anchor PUB.pem=PREFIX | --mac-key KEY) --out DIR ENVELOPE",
		Short: "Run a manifest on a dry-run device and write what it installs into a folder",
		Long: `Authenticate ENVELOPE ("-": standard input) and run its command sequences on a dry-run
device (described by --device DEVICE.json, secure/suit/dryrun.Config): each command is
printed as it runs, each installed component is written into --out DIR under a name
derived from its component ID. Payloads the manifest fetches come from --payload
URI=FILE. A SUIT report of what happened can be written (--report) and signed
(--report-key).`,
		Example: `  teeup manifest process --key author.pub.pem --device device.json \
      --payload https://fw.example/secure-v2.bin=secure.bin --out installed update.suit
  teeup manifest process --mac-key mac.key --kek kek.key --report r.cbor --report-key device.pem \
      --out installed update.suit`,
		Args: exactArgs(1, "one ENVELOPE"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if len(keyPaths) == 0 && len(anchorSpecs) == 0 && macPath == "" {
				return usageError("manifest process: needs --key, --anchor or --mac-key")
			}
			if err := required(cmd, "out"); err != nil {
				return err
			}
			keys, err := verificationKeys(keyPaths, macPath)
			if err != nil {
				return err
			}
			anchors, err := trustAnchors(keys, anchorSpecs)
			if err != nil {
				return err
			}
			keys = anchors.Keys()
			dev := &dryrun.Device{}
			if devicePath != "" {
				if dev, err = dryrun.LoadConfig(devicePath); err != nil {
					return err
				}
			}
			dev.SimulateMissingPayloadsUnsafe = dev.SimulateMissingPayloadsUnsafe || simulate
			if kekPath != "" {
				if dev.KEK, err = readKEK(kekPath); err != nil {
					return err
				}
			}
			if agreementPath != "" {
				if dev.AgreementKey, err = readAgreementKey(agreementPath); err != nil {
					return err
				}
			}
			dev.Payloads = map[string][]byte{}
			for _, p := range payloads {
				uri, file, ok := strings.Cut(p, "=")
				if !ok {
					return usageError("manifest process: --payload takes URI=FILE, got %q", p)
				}
				if dev.Payloads[uri], err = os.ReadFile(file); err != nil {
					return err
				}
			}
			reportOpts, err := rf.options(dev)
			if err != nil {
				return err
			}
			raw, err := a.readFile(pos[0])
			if err != nil {
				return err
			}
			name := displayName(pos[0])
			stdout := a.stdout
			data := decodeMaybeHex(raw)
			env, err := suit.ParseEnvelope(data)
			var v *suit.Verified
			if err != nil {
				err = notEnvelope(name, err)
			} else if v, err = env.Authenticate(keys); err != nil {
				err = refused(name, err)
			}
			if err != nil {
				if rerr := a.emitReport(rf, suit.NewFailureReport(data, err, reportOpts)); rerr != nil {
					return rerr
				}
				return err
			}
			fmt.Fprintf(stdout, "authenticated %s: sequence number %d\n", name, v.Manifest.SequenceNumber)
			res, perr := suit.Process(context.Background(), v, dev, suit.Options{Details: true, Report: true, Authorizer: anchors,
				OnRecord: func(r suit.Record) { fmt.Fprintln(stdout, r) },
			})
			for _, s := range res.Skipped {
				fmt.Fprintf(stdout, "%s: severed and not supplied, skipped\n", s)
			}
			for _, e := range dev.Simulated {
				fmt.Fprintf(stdout, "device: %s\n", e)
			}
			if err := a.emitReport(rf, suit.NewReport(v, res, perr, reportOpts)); err != nil {
				return err
			}
			if perr != nil {
				return refused("process "+name, perr)
			}
			files, err := dev.WriteImages(out)
			for _, f := range files {
				if f.Simulated {
					fmt.Fprintf(stdout, "component %s: simulated (no bytes), described in %s\n", f.ID, filepath.Join(out, f.Name))
					continue
				}
				fmt.Fprintf(stdout, "component %s: %d bytes -> %s\n", f.ID, f.Size, filepath.Join(out, f.Name))
			}
			if err != nil {
				return err
			}
			for _, id := range dev.Invocations {
				fmt.Fprintf(stdout, "invoked %s\n", id)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&keyPaths, "key", nil, "trusted public key (PEM), for every component; repeat for several")
	f.StringArrayVar(&anchorSpecs, "anchor", nil, "PUB.pem=PREFIX[,PREFIX]: a key trusted only for components under these prefixes "+
		"(parts in hex joined by '/', or 'text:NAME' for a one-part text ID); repeatable")
	f.StringArrayVar(&payloads, "payload", nil, "URI=FILE: what a fetch of URI returns; repeatable")
	f.StringVar(&macPath, "mac-key", "", "HMAC-SHA256 key file (raw bytes) for COSE_Mac0 manifests")
	f.StringVar(&kekPath, "kek", "", "the device's A128KW key-encryption key (16 raw bytes)")
	f.StringVar(&agreementPath, "device-key", "", "the device's P-256 private key (PEM) for ECDH-ES+A128KW")
	f.StringVar(&devicePath, "device", "", "DEVICE.json describing the dry-run device")
	f.StringVar(&out, "out", "", "folder for the components' final contents")
	f.BoolVar(&simulate, "simulate-missing-payloads", false,
		"UNSAFE for anything but tracing: a fetch with no payload yields an image assumed to match the manifest's digest")
	rf.add(c)
	return c
}
