package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

func runManifest(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("manifest: no subcommand")
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"keygen": manifestKeygen, "create": manifestCreate, "sign": manifestSign,
		"verify": manifestVerify, "inspect": manifestInspect, "process": manifestProcess, "report": manifestReport,
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return usageError("manifest: unknown subcommand %q", args[0])
	}
	return f(args[1:], stdout, stderr)
}

func manifestKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest keygen", flag.ContinueOnError)
	algName := fs.String("alg", "ES256", "ES256, ESP256, ES384 or Ed25519")
	out := fs.String("out", "", "private key file (PEM); the public key goes to NAME.pub.pem")
	if pos, err := parseFlags(fs, args, stderr); err != nil {
		return err
	} else if len(pos) != 0 || *out == "" {
		return usageError("manifest keygen: need --out and no arguments")
	}
	alg, err := suit.ParseAlg(*algName)
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
	pubPath := strings.TrimSuffix(*out, ".pem") + ".pub.pem"
	if err := os.WriteFile(*out, priv, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return err
	}
	k, _ := key.Public()
	fmt.Fprintf(stdout, "wrote %s and %s (%s, key id %s)\n", *out, pubPath, suit.AlgName(alg), k.ID[:16])
	return nil
}

func manifestCreate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest create", flag.ContinueOnError)
	var keyPaths listFlag
	fs.Var(&keyPaths, "key", "signing key (PEM); repeat to co-sign")
	integrate := fs.Bool("integrate", false, "carry every payload file in the envelope")
	out := fs.String("out", "", "envelope file to write")
	publish := fs.String("publish", "", "directory for the ciphertexts of encrypted fetched payloads (default: beside --out)")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || len(keyPaths) == 0 {
		return usageError("manifest create: need SPEC.json, --key and --out")
	}
	spec, err := author.LoadSpec(pos[0], *integrate)
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
	if len(detached) > 0 {
		dir := *publish
		if dir == "" {
			dir = filepath.Dir(*out)
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
			fmt.Fprintf(stdout, "publish %s at %s (ciphertext, %d bytes)\n", name, uri, len(detached[uri]))
		}
	}
	for _, k := range keys {
		if err := env.Sign(k); err != nil {
			return err
		}
	}
	data := env.Encode()
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, sequence number %d, %d component(s), %d signature(s)\n",
		*out, len(data), spec.SequenceNumber, len(spec.Components), len(keys))
	return nil
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

func manifestSign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest sign", flag.ContinueOnError)
	keyPath := fs.String("key", "", "signing key (PEM)")
	out := fs.String("out", "", "output file (default: overwrite the input)")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *keyPath == "" {
		return usageError("manifest sign: need --key and one envelope")
	}
	keys, err := readSigningKeys([]string{*keyPath})
	if err != nil {
		return err
	}
	env, err := readEnvelope(pos[0])
	if err != nil {
		return err
	}
	if err := env.Sign(keys[0]); err != nil {
		return err
	}
	dst := *out
	if dst == "" {
		dst = pos[0]
	}
	if err := os.WriteFile(dst, env.Encode(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %s with %s\n", dst, suit.AlgName(keys[0].Alg))
	return nil
}

func manifestVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest verify", flag.ContinueOnError)
	var keyPaths listFlag
	fs.Var(&keyPaths, "key", "trusted public key (PEM); repeat for several")
	macPath := fs.String("mac-key", "", "HMAC-SHA256 key file (raw bytes) for COSE_Mac0 manifests")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (len(keyPaths) == 0 && *macPath == "") {
		return usageError("manifest verify: need --key or --mac-key, and one file")
	}
	keys, err := verificationKeys(keyPaths, *macPath)
	if err != nil {
		return err
	}
	env, err := readEnvelope(pos[0])
	if err != nil {
		return err
	}
	v, err := env.Authenticate(keys)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "%s: verified, sequence number %d, signed by %d of %d key(s)\n",
		pos[0], v.Manifest.SequenceNumber, len(v.Signers), len(keys))
	return nil
}

func manifestProcess(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("manifest process", flag.ContinueOnError)
	var keyPaths, payloads listFlag
	fs.Var(&keyPaths, "key", "trusted public key (PEM), for every component; repeat for several")
	var anchorSpecs listFlag
	fs.Var(&anchorSpecs, "anchor", "PUB.pem=PREFIX[,PREFIX]: a key trusted only for components under these prefixes "+
		"(parts in hex joined by '/', or 'text:NAME' for a one-part text ID); repeatable")
	fs.Var(&payloads, "payload", "URI=FILE: what a fetch of URI returns; repeatable")
	macPath := fs.String("mac-key", "", "HMAC-SHA256 key file (raw bytes) for COSE_Mac0 manifests")
	kekPath := fs.String("kek", "", "the device's A128KW key-encryption key (16 raw bytes)")
	agreementPath := fs.String("device-key", "", "the device's P-256 private key (PEM) for ECDH-ES+A128KW")
	devicePath := fs.String("device", "", "DEVICE.json describing the dry-run device")
	out := fs.String("out", "", "directory for the components' final contents")
	simulate := fs.Bool("simulate-missing-payloads", false,
		"UNSAFE for anything but tracing: a fetch with no payload yields an image assumed to match the manifest's digest")
	rf := addReportFlags(fs)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (len(keyPaths) == 0 && len(anchorSpecs) == 0 && *macPath == "") || *out == "" {
		return usageError("manifest process: need --key, --anchor or --mac-key, --out and one envelope")
	}
	keys, err := verificationKeys(keyPaths, *macPath)
	if err != nil {
		return err
	}
	anchors, err := trustAnchors(keys, anchorSpecs)
	if err != nil {
		return err
	}
	keys = anchors.Keys()
	dev := &dryrun.Device{}
	if *devicePath != "" {
		if dev, err = dryrun.LoadConfig(*devicePath); err != nil {
			return err
		}
	}
	dev.SimulateMissingPayloadsUnsafe = dev.SimulateMissingPayloadsUnsafe || *simulate
	if *kekPath != "" {
		if dev.KEK, err = readKEK(*kekPath); err != nil {
			return err
		}
	}
	if *agreementPath != "" {
		if dev.AgreementKey, err = readAgreementKey(*agreementPath); err != nil {
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
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	data := decodeMaybeHex(raw)
	env, err := suit.ParseEnvelope(data)
	var v *suit.Verified
	if err == nil {
		v, err = env.Authenticate(keys)
	}
	if err != nil {
		if rerr := rf.emit(stdout, suit.NewFailureReport(data, err, reportOpts)); rerr != nil {
			return rerr
		}
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "authenticated %s: sequence number %d\n", pos[0], v.Manifest.SequenceNumber)
	res, perr := suit.Process(context.Background(), v, dev, suit.Options{Details: true, Report: true, Authorizer: anchors,
		OnRecord: func(r suit.Record) { fmt.Fprintln(stdout, r) },
	})
	for _, s := range res.Skipped {
		fmt.Fprintf(stdout, "%s: severed and not supplied, skipped\n", s)
	}
	for _, e := range dev.Simulated {
		fmt.Fprintf(stdout, "device: %s\n", e)
	}
	if err := rf.emit(stdout, suit.NewReport(v, res, perr, reportOpts)); err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("process %s: %w", pos[0], perr)
	}
	files, err := dev.WriteImages(*out)
	for _, f := range files {
		if f.Simulated {
			fmt.Fprintf(stdout, "component %s: simulated (no bytes), described in %s\n", f.ID, filepath.Join(*out, f.Name))
			continue
		}
		fmt.Fprintf(stdout, "component %s: %d bytes -> %s\n", f.ID, f.Size, filepath.Join(*out, f.Name))
	}
	if err != nil {
		return err
	}
	for _, id := range dev.Invocations {
		fmt.Fprintf(stdout, "invoked %s\n", id)
	}
	return nil
}
