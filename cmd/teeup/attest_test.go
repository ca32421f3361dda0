package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device"
)

// TestCLIDeviceAttestOffline: a device that is off is powered on to attest;
// its evidence carries the verifier's nonce, signed by the key its
// endorsement names, and claims the factory images as their published
// reference values describe them. A nonce under 8 bytes is refused and
// writes nothing.
func TestCLIDeviceAttestOffline(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	dev := filepath.Join(tmp, "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dev); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	ev := filepath.Join(tmp, "evidence.cbor")
	if out, e, code := teeup(t, "device", "attest", "--dir", dev, "--nonce", "00112233445566778899", "--out", ev); code != 0 {
		t.Fatalf("attest: %s%s", out, e)
	}
	end, err := comid.DecodeEndorsement(mustRead(t, device.EndorsementFile(dev)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := end.DeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := attest.DecodeEvidence(mustRead(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.VerifyEAT(decoded.EAT, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.Claims.Nonce, []byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}) || !bytes.Equal(v.Claims.UEID, end.UEID) {
		t.Fatalf("claims %+v", v.Claims)
	}
	ref, err := comid.DecodeReferenceValues(mustRead(t, device.FactoryReferenceFile(dev)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Claims.Components {
		r, ok := ref.Lookup(c.Name, c.Sequence)
		if !ok || !bytes.Equal(r.Digest, c.Digest) || !bytes.Equal(r.ManifestDigest, c.ManifestDigest) || !bytes.Equal(r.Signers[0], c.Signer) {
			t.Fatalf("claim %+v has no matching reference in %+v", c, ref.Components)
		}
	}
	// The verifier's verdict, and its EAR signed with its own key.
	verifierKey := filepath.Join(tmp, "verifier.pem")
	if out, e, code := teeup(t, "manifest", "keygen", "--alg", "ES256", "--out", verifierKey); code != 0 {
		t.Fatalf("keygen: %s%s", out, e)
	}
	jwt := filepath.Join(tmp, "result.jwt")
	if out, e, code := teeup(t, "attest", "verify", "--evidence", ev, "--nonce", "00112233445566778899", "--endorsements", device.EndorsementFile(dev),
		"--reference", device.FactoryReferenceFile(dev), "--ear", jwt, "--ear-key", verifierKey); code != 0 || !strings.Contains(out, "trustworthy (affirming)") {
		t.Fatalf("attest verify: exit %d\n%s%s", code, out, e)
	}
	priv, err := readEARKey(verifierKey)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := attest.VerifyEAR(mustRead(t, jwt), &priv.PublicKey)
	if err != nil || *ar.Submods[attest.EARSubmod].Status != ear.TrustTierAffirming {
		t.Fatalf("EAR: %v", err)
	}
	// The same evidence for another nonce is refused.
	if out, _, code := teeup(t, "attest", "verify", "--evidence", ev, "--nonce", "00112233445566778800", "--endorsements", device.EndorsementFile(dev),
		"--reference", device.FactoryReferenceFile(dev)); code == 0 || !strings.Contains(out, "nonce") {
		t.Fatalf("evidence for another nonce: exit %d\n%s", code, out)
	}
	short := filepath.Join(tmp, "short.cbor")
	if _, _, code := teeup(t, "device", "attest", "--dir", dev, "--nonce", "00112233445566", "--out", short); code == 0 {
		t.Fatal("a nonce of 7 bytes was accepted")
	}
	if _, err := os.Stat(short); !os.IsNotExist(err) {
		t.Fatalf("a refused attest wrote %s", short)
	}
}

// TestCLIAttestReference: the reference values of an envelope, written
// by attest reference, are the factory's for the same envelope; adding a
// second release keeps the first; an envelope that does not verify with
// the keys given is refused and the file is unchanged.
func TestCLIAttestReference(t *testing.T) {
	t.Parallel()
	d := &runningDevice{t: t, dir: filepath.Join(t.TempDir(), "dev")}
	if out, e, code := teeup(t, "device", "init", "--dir", d.dir); code != 0 {
		t.Fatalf("init: %s%s", out, e)
	}
	n2, _ := d.release("normal", 2, "https://fw.example/normal-2.bin")
	n3, _ := d.release("normal", 3, "https://fw.example/normal-3.bin")
	ref := filepath.Join(filepath.Dir(d.dir), "reference.json")
	author := filepath.Join(d.dir, "dev-keys", "author.pem")
	for _, env := range []string{n2, n3} {
		if out, e, code := teeup(t, "attest", "reference", "--key", author, "--out", ref, env); code != 0 {
			t.Fatalf("reference: %s%s", out, e)
		}
	}
	rv, err := comid.DecodeReferenceValues(mustRead(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Components) != 2 || rv.Components[0].SequenceNumber != 2 || rv.Components[1].SequenceNumber != 3 {
		t.Fatalf("reference values %+v", rv.Components)
	}
	before := mustRead(t, ref)
	operator := filepath.Join(d.dir, "dev-keys", "operator.pem")
	if _, _, code := teeup(t, "attest", "reference", "--key", operator, "--out", ref, n2); code == 0 {
		t.Fatal("an envelope the key did not sign gave reference values")
	}
	if !bytes.Equal(mustRead(t, ref), before) {
		t.Fatal("a refused reference changed the file")
	}
}
