package dryrun_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

func readTD(t testing.TB, name string) []byte {
	t.Helper()
	return hexBytes(t, mustReadSpec(t, "suit-trust-domains/"+name))
}

func mustReadSpec(t testing.TB, rel string) []byte {
	t.Helper()
	raw, err := readFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func tdKey(t testing.TB) *suit.Key {
	t.Helper()
	k, err := suit.ParsePublicKeyPEM(mustReadSpec(t, "suit-trust-domains/public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func cid(parts ...string) suit.ComponentID {
	id := suit.ComponentID{}
	for _, p := range parts {
		id = append(id, []byte(p))
	}
	return id
}

// tdAnchors trusts the examples' key for exactly the components they use:
// the dependent's ['10'] and storage ['depending.suit'], the dependency's
// ['00'] and its storage ['dependent.suit'].
func tdAnchors(t testing.TB) suit.TrustAnchors {
	return suit.TrustAnchors{{Key: tdKey(t), Prefixes: []suit.ComponentID{cid("00"), cid("10"), cid("dependent.suit"), cid("depending.suit")}}}
}

func authenticate(t testing.TB, data []byte, keys ...*suit.Key) *suit.Verified {
	t.Helper()
	env, err := suit.ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate(keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTrustDomainExamples processes the three examples of
// draft-ietf-suit-trust-domains Appendix B and compares the traces with
// golden files. Example 1 fetches its dependency; example 2 carries it
// integrated. Both write 'hello world' (the dependency's install) and
// ' in multiple trust domains' (their own), then invoke ['10'].
func TestTrustDomainExamples(t *testing.T) {
	dependency := readTD(t, "example0_dependent.hex")
	tests := []struct {
		name, file string
		want       map[string]string
		invoked    string
	}{
		{"td-example0-dependent", "example0_dependent.hex", map[string]string{"['00']": "hello world"}, "['00']"},
		{"td-example1-process", "example1_process.hex", map[string]string{"['00']": "hello world", "['10']": " in multiple trust domains"}, "['10']"},
		{"td-example2-integrated", "example2_integrated.hex", map[string]string{"['00']": "hello world", "['10']": " in multiple trust domains"}, "['10']"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := authenticate(t, readTD(t, tc.file), tdKey(t))
			dev := &dryrun.Device{Payloads: map[string][]byte{"http://example.com/dependent.suit": dependency}}
			res, err := suit.Process(context.Background(), v, dev, suit.Options{Details: true, Authorizer: tdAnchors(t)})
			if err != nil {
				t.Fatalf("Process: %v\n%s", err, res.Trace())
			}
			golden(t, filepath.Join("testdata", tc.name+".trace"), res.Trace())
			for id, want := range tc.want {
				if got := imageOf(dev, id); got != want {
					t.Errorf("%s = %q, want %q", id, got, want)
				}
			}
			wantInvoked(t, dev, tc.invoked)
		})
	}
}

// TestEncryptedDependencyExample processes the firmware-encryption
// dependency example: a distributor's manifest (the dependent's signer)
// sets the encryption info that the author's integrated dependency
// consumes when it writes the firmware. Each key is trusted only for its
// own components.
func TestEncryptedDependencyExample(t *testing.T) {
	data := hexBytes(t, readFE(t, "suit-manifest-es-ecdh-dependency.hex.signed"))
	author, err := suit.ParsePublicKeyPEM(readFE(t, "signer-public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	distributor, err := suit.ParsePublicKeyPEM(readFE(t, "dependent-signer-public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := suit.TrustAnchors{
		{Key: distributor, Prefixes: []suit.ComponentID{cid("dependent-manifest.suit"), cid("dependency-manifest.suit")}},
		{Key: author, Prefixes: []suit.ComponentID{cid("decrypted-firmware")}},
	}
	v := authenticate(t, data, distributor, author)
	dev := &dryrun.Device{AgreementKey: agreementKey(t)}
	res, err := suit.Process(context.Background(), v, dev, suit.Options{Details: true, Authorizer: anchors})
	if err != nil {
		t.Fatalf("Process: %v\n%s", err, res.Trace())
	}
	golden(t, filepath.Join("testdata", "fe-es-ecdh-dependency.trace"), res.Trace())
	if got := imageOf(dev, "['decrypted-firmware']"); got != vectorPlaintext {
		t.Errorf("decrypted-firmware = %q, want %q", got, vectorPlaintext)
	}

	// The distributor may not write the firmware on its own authority:
	// with the author's key trusted for nothing, the write is refused.
	anchors[1].Prefixes = []suit.ComponentID{cid("other")}
	dev = &dryrun.Device{AgreementKey: agreementKey(t)}
	res, err = suit.Process(context.Background(), v, dev, suit.Options{Details: true, Authorizer: anchors})
	if !errors.Is(err, suit.ErrUnauthorized) {
		t.Fatalf("Process = %v, want ErrUnauthorized\n%s", err, res.Trace())
	}
	if got := imageOf(dev, "['decrypted-firmware']"); got != "<none>" {
		t.Errorf("decrypted-firmware = %q after a refused write", got)
	}
}

// resign replaces the authentication of an envelope with a signature by
// key: the manifest, and so its digest, stay the same.
func resign(t testing.TB, data []byte, key *suit.SigningKey) []byte {
	t.Helper()
	env, err := suit.ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := env.ManifestDigest()
	if err != nil {
		t.Fatal(err)
	}
	env.AuthWrapper = (&suit.Authentication{DigestBytes: d.Encode()}).Encode()
	if err := env.Sign(key); err != nil {
		t.Fatal(err)
	}
	return env.Encode()
}

// TestDependencyAuthorization swaps the integrated dependency of example 2
// for the same manifest signed by another key (the dependent's signature
// covers only the dependency's digest, which does not change): the
// dependency is refused unless that key is trusted, and for ['00'].
func TestDependencyAuthorization(t *testing.T) {
	other, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _ := other.Public()
	dependency := resign(t, readTD(t, "example0_dependent.hex"), other)
	env, err := suit.ParseEnvelope(readTD(t, "example2_integrated.hex"))
	if err != nil {
		t.Fatal(err)
	}
	env.Integrated["#dependent.suit"] = dependency
	tampered := bytes.Clone(readTD(t, "example0_dependent.hex"))
	tampered[len(tampered)-3] ^= 1 // inside the dependency's manifest

	mainOnly := suit.TrustAnchors{{Key: tdKey(t), Prefixes: []suit.ComponentID{cid("10"), cid("dependent.suit"), cid("depending.suit")}}}
	tests := []struct {
		name       string
		dependency []byte
		anchors    suit.TrustAnchors
		want       error
	}{
		{"signed by an unknown key", dependency, mainOnly, suit.ErrBadSignature},
		{"signed by a key not trusted for ['00']",
			dependency, append(mainOnly, suit.TrustAnchor{Key: otherPub, Prefixes: []suit.ComponentID{cid("01")}}), suit.ErrUnauthorized},
		{"the dependent may not touch ['00'] itself",
			readTD(t, "example0_dependent.hex"), mainOnly, suit.ErrUnauthorized},
		{"signed by a key trusted for ['00']",
			dependency, append(mainOnly, suit.TrustAnchor{Key: otherPub, Prefixes: []suit.ComponentID{cid("00")}}), nil},
		{"altered dependency", tampered, tdAnchors(t), suit.ErrImageMismatch},
		{"no trust policy", dependency, nil, suit.ErrUnsupportedCommand},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env.Integrated["#dependent.suit"] = tc.dependency
			v := authenticate(t, env.Encode(), tdKey(t))
			dev := &dryrun.Device{}
			opts := suit.Options{Details: true}
			if tc.anchors != nil {
				opts.Authorizer = tc.anchors
			}
			res, err := suit.Process(context.Background(), v, dev, opts)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.want, res.Trace())
			}
			if tc.want != nil && imageOf(dev, "['00']") != "<none>" {
				t.Errorf("['00'] written by a refused dependency")
			}
			if tc.want == nil && imageOf(dev, "['00']") != "hello world" {
				t.Errorf("['00'] = %q", imageOf(dev, "['00']"))
			}
			// The report names where it failed: for the dependency's own
			// refusal, inside the dependency (manifest id [1]).
			if errors.Is(err, suit.ErrUnauthorized) && tc.name != "the dependent may not touch ['00'] itself" {
				rep := suit.NewReport(v, res, err, suit.ReportOptions{})
				if rep.Result.Reason != suit.ReasonComponentUnauthorised || len(rep.Result.Record.ManifestID) != 1 || rep.Result.Record.ManifestID[0] != 1 {
					t.Errorf("report result %+v", rep.Result)
				}
			}
		})
	}
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestStagingInstallUninstall runs the staging, installation and uninstall
// procedures of trust-domains §6-7 on a manifest that has candidate
// verification and an uninstall sequence of unlinks.
func TestStagingInstallUninstall(t *testing.T) {
	digest, _ := suit.DigestOf(suit.AlgSHA256, []byte("image"))
	seq := func(s ...any) []byte { return enc(s) }
	common := enc(map[int]any{2: [][][]byte{{[]byte("app")}}, 4: seq(20, map[int]any{3: enc(digest)})})
	manifest := enc(map[int]any{1: 1, 2: 3, 3: common,
		16: seq(20, map[int]any{21: "https://fw/app"}, 21, 15),
		18: seq(3, 15),
		20: seq(3, 15),
		24: seq(33, 15),
	})
	key, _ := suit.GenerateSigningKey(suit.AlgES256)
	pub, _ := key.Public()
	v, err := signManifest(t, manifest, key).Authenticate([]*suit.Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	dev := &dryrun.Device{Payloads: map[string][]byte{"https://fw/app": []byte("image")}}
	anchors := suit.TrustAnchors{{Key: pub, Prefixes: []suit.ComponentID{cid("app")}}}
	var ran []string
	for _, proc := range [][]int64{suit.StagingProcedure, suit.InstallationProcedure, suit.UninstallProcedure} {
		res, err := suit.Process(context.Background(), v, dev, suit.Options{Sequences: proc, Authorizer: anchors})
		if err != nil {
			t.Fatalf("%v: %v\n%s", proc, err, res.Trace())
		}
		ran = append(ran, res.Ran...)
	}
	if got := strings.Join(ran, ","); got != "payload-fetch,candidate-verification,install,uninstall" {
		t.Errorf("ran %s", got)
	}
	if len(dev.Unlinked) != 1 || dev.Unlinked[0].String() != "['app']" || imageOf(dev, "['app']") != "<none>" {
		t.Errorf("unlinked %v, app holds %q", dev.Unlinked, imageOf(dev, "['app']"))
	}
	// A signer not trusted for ['app'] may not unlink it.
	other, _ := suit.GenerateSigningKey(suit.AlgES256)
	otherPub, _ := other.Public()
	_, err = suit.Process(context.Background(), v, dev, suit.Options{Sequences: suit.UninstallProcedure,
		Authorizer: suit.TrustAnchors{{Key: otherPub, Prefixes: []suit.ComponentID{{}}}}})
	if !errors.Is(err, suit.ErrUnauthorized) {
		t.Errorf("unlink by an untrusted signer: %v", err)
	}
}
