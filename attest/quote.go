package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/google/go-tpm/tpm2"

	"github.com/teeup/teeup/attest/eventlog"
)

// Quote is a TPM2 quote as the TPM returned it: the TPMS_ATTEST structure
// it signed and its signature by the TPM's attestation key. Nothing in it
// is trusted until VerifyQuote has checked the signature.
type Quote struct {
	// Attest is the TPMS_ATTEST, as the TPM encoded it.
	Attest []byte `cbor:"1,keyasint"`
	// Signature is the attestation key's ECDSA P-256 signature over
	// SHA-256(Attest), ASN.1 DER encoded.
	Signature []byte `cbor:"2,keyasint"`
}

// VerifiedQuote is what a quote says once its signature verified.
type VerifiedQuote struct {
	// ExtraData is the qualifying data the quote was made with.
	ExtraData []byte
	// PCRs are the quoted PCRs of the SHA-256 bank, ascending.
	PCRs []int
	// PCRDigest is SHA-256 over the quoted PCR values in that order.
	PCRDigest []byte
}

// VerifyQuote checks that q is a quote signed by ak, the endorsed TPM
// attestation key (ECDSA P-256), and only then decodes what it attests.
//
// It reads the TPMS_ATTEST with go-tpm's tpm2 structures, the library
// that produced it: go-attestation v0.6.4 verifies quotes through the
// legacy go-tpm API and its own AK and PCR types, which would add a second
// TPM library for the one structure we read here.
func VerifyQuote(q Quote, ak *ecdsa.PublicKey) (*VerifiedQuote, error) {
	if len(q.Attest) == 0 || len(q.Attest) > MaxQuoteAttest || len(q.Signature) > MaxQuoteSignature {
		return nil, fmt.Errorf("%w: quote of %d bytes, signature of %d", ErrQuote, len(q.Attest), len(q.Signature))
	}
	if ak == nil || ak.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the endorsed TPM key is not P-256", ErrQuote)
	}
	h := sha256.Sum256(q.Attest)
	if !ecdsa.VerifyASN1(ak, h[:], q.Signature) {
		return nil, fmt.Errorf("%w: signature by the endorsed TPM key does not verify", ErrQuote)
	}
	return parseQuote(q.Attest)
}

// parseQuote decodes a TPMS_ATTEST that must be a quote over PCRs of the
// SHA-256 bank only.
func parseQuote(b []byte) (*VerifiedQuote, error) {
	att, err := tpm2.Unmarshal[tpm2.TPMSAttest](b)
	if err != nil {
		return nil, fmt.Errorf("%w: TPMS_ATTEST: %w", ErrQuote, err)
	}
	// go-tpm checks the magic (TPM_GENERATED_VALUE) while decoding; the
	// encoding must also be exactly the bytes signed, nothing after.
	if !bytes.Equal(tpm2.Marshal(att), b) {
		return nil, fmt.Errorf("%w: TPMS_ATTEST has trailing bytes", ErrQuote)
	}
	if att.Type != tpm2.TPMSTAttestQuote {
		return nil, fmt.Errorf("%w: attestation of type %#x, not a quote", ErrQuote, att.Type)
	}
	info, err := att.Attested.Quote()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQuote, err)
	}
	sels := info.PCRSelect.PCRSelections
	if len(sels) != 1 || sels[0].Hash != tpm2.TPMAlgSHA256 {
		return nil, fmt.Errorf("%w: the quote must select PCRs of the SHA-256 bank only", ErrQuote)
	}
	var pcrs []int
	for i, byt := range sels[0].PCRSelect {
		for bit := range 8 {
			if byt&(1<<bit) != 0 {
				pcrs = append(pcrs, i*8+bit)
			}
		}
	}
	if len(pcrs) == 0 || pcrs[len(pcrs)-1] >= eventlog.NumPCRs {
		return nil, fmt.Errorf("%w: quoted PCRs %v", ErrQuote, pcrs)
	}
	return &VerifiedQuote{ExtraData: att.ExtraData.Buffer, PCRs: pcrs, PCRDigest: info.PCRDigest.Buffer}, nil
}

// checkReplay checks that log replays to the PCR values vq quotes: its
// PCRs are among the quoted ones (a PCR it does not extend must be
// quoted at its reset value, zero) and the digest of the replayed values
// is the quote's PCR digest.
func checkReplay(vq *VerifiedQuote, log eventlog.Log) error {
	quoted := make(map[int]bool, len(vq.PCRs))
	for _, p := range vq.PCRs {
		quoted[p] = true
	}
	if !quoted[eventlog.MeasurementPCR] {
		return fmt.Errorf("%w: the measurement PCR %d is not quoted", ErrQuote, eventlog.MeasurementPCR)
	}
	for _, p := range log.PCRs() {
		if !quoted[p] {
			return fmt.Errorf("%w: the log extends PCR %d, which is not quoted", ErrEventLog, p)
		}
	}
	h := sha256.New()
	for _, p := range vq.PCRs {
		h.Write(log.Replay(p))
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), vq.PCRDigest) != 1 {
		return fmt.Errorf("%w: replayed PCR digest differs from the quoted one", ErrEventLog)
	}
	return nil
}
