package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/boot"
)

// checkEvidence verifies evidence as a verifier that registered the
// device's endorsement does: the EAT's signature by the device's key and
// its nonce, the quote's signature by the TPM's key and its binding to
// the EAT, the log's replay to the quoted PCR, and the log's measurements
// equal to the claims'.
func checkEvidence(e *comid.Endorsement, b, nonce []byte) error {
	devKey, err := e.DeviceKey()
	if err != nil {
		return err
	}
	tpmKey, err := e.TPMKey()
	if err != nil {
		return err
	}
	ev, err := attest.DecodeEvidence(b)
	if err != nil {
		return err
	}
	v, err := attest.VerifyEAT(ev.EAT, devKey)
	if err != nil {
		return err
	}
	if !bytes.Equal(v.Claims.Nonce, nonce) {
		return errors.New("another nonce")
	}
	sum := sha256.Sum256(ev.Quote.Attest)
	if !ecdsa.VerifyASN1(tpmKey, sum[:], ev.Quote.Signature) {
		return errors.New("the quote's signature does not verify")
	}
	q, err := tpm2.Unmarshal[tpm2.TPMSAttest](ev.Quote.Attest)
	if err != nil {
		return err
	}
	info, err := q.Attested.Quote()
	if err != nil {
		return err
	}
	if q.Magic != tpm2.TPMGeneratedValue || !bytes.Equal(q.ExtraData.Buffer, v.PayloadHash) {
		return errors.New("the quote is not the TPM's over this EAT")
	}
	if want := sha256.Sum256(ev.EventLog.Replay(boot.MeasurementPCR)); !bytes.Equal(info.PCRDigest.Buffer, want[:]) {
		return errors.New("the log does not replay to the quoted PCR")
	}
	measured := 0
	for _, e := range ev.EventLog {
		c, ok := v.Claims.Component(e.Component)
		want := c.Digest
		if e.Kind == "manifest" {
			want = c.ManifestDigest
		}
		if !ok || c.Kind != attest.KindImage || !bytes.Equal(want, e.Digest) {
			return fmt.Errorf("the log's %s %s is not claimed", e.Component, e.Kind)
		}
		measured++
	}
	for _, c := range v.Claims.Components {
		if c.Kind == attest.KindImage {
			measured -= 2
		}
	}
	if measured != 0 {
		return errors.New("an image is claimed and not measured")
	}
	return nil
}

// TestEvidenceOverIPC: the normal world relays a verifier's nonce and the
// secure world's evidence. The evidence verifies against the device's
// endorsement; a normal world that alters any byte of it in transit is
// found out by the verifier; it cannot have evidence made for a nonce out
// of bounds; and no byte of the attestation key crosses the channel.
func TestEvidenceOverIPC(t *testing.T) {
	w := newWorld(t)
	raw, err := os.ReadFile(w.kit.EndorsementFile())
	if err != nil {
		t.Fatal(err)
	}
	e, err := comid.DecodeEndorsement(raw)
	if err != nil {
		t.Fatal(err)
	}
	nonce := []byte("verifier's nonce 0123456789")
	ev, err := w.client.Evidence(context.Background(), nonce)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEvidence(e, ev, nonce); err != nil {
		t.Fatalf("honest evidence: %v", err)
	}
	if checkEvidence(e, ev, []byte("another nonce, a replay")) == nil {
		t.Fatal("evidence passed for another nonce")
	}
	for i := range ev {
		altered := bytes.Clone(ev)
		altered[i] ^= 0x01
		if checkEvidence(e, altered, nonce) == nil {
			t.Fatalf("evidence with byte %d of %d altered in transit passed", i, len(ev))
		}
	}
	for _, n := range []int{0, 7} {
		if _, err := w.client.Evidence(context.Background(), make([]byte, n)); !errors.Is(err, ipc.ErrRejected) {
			t.Errorf("a nonce of %d bytes: %v, want ErrRejected", n, err)
		}
	}
	// An oversize nonce does not even reach the secure world.
	if _, err := w.client.Evidence(context.Background(), make([]byte, 65)); err == nil {
		t.Error("a nonce of 65 bytes was accepted")
	}
	st, err := w.kit.Dev.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	dk, err := st.DeviceKeys()
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := dk.Attestation.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{scalar, scalar[:16], scalar[16:]} {
		if w.rec.Crossed(secret) {
			t.Fatal("the attestation key crossed the channel")
		}
	}
	if !w.rec.Crossed(ev[:64]) {
		t.Fatal("the recorder saw no evidence: it records nothing")
	}
}
