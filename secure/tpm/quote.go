package tpm

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// attestationKeyTemplate is the device's attestation key: an ECDSA P-256
// signing key, restricted (it signs only what the TPM itself produced,
// such as a quote, never an outside digest made to look like one), fixed
// to this TPM, derived from the endorsement seed each time it is needed
// so that it is the same key for the life of the TPM and nothing of it is
// kept outside.
var attestationKeyTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM:            true,
		FixedParent:         true,
		SensitiveDataOrigin: true,
		UserWithAuth:        true,
		NoDA:                true,
		Restricted:          true,
		SignEncrypt:         true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{
			Scheme: tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA,
				&tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		CurveID: tpm2.TPMECCNistP256,
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
		X: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)},
		Y: tpm2.TPM2BECCParameter{Buffer: make([]byte, 32)},
	}),
}

// attestationKey loads the attestation key; the caller flushes it.
func attestationKey(tr transport.TPM) (tpm2.NamedHandle, *ecdsa.PublicKey, func(), error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHEndorsement,
		InPublic:      tpm2.New2B(attestationKeyTemplate),
	}.Execute(tr)
	if err != nil {
		return tpm2.NamedHandle{}, nil, nil, fmt.Errorf("attestation key: %w", err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(tr) }
	pub, err := publicKey(rsp.OutPublic)
	if err != nil {
		flush()
		return tpm2.NamedHandle{}, nil, nil, fmt.Errorf("attestation key: %w", err)
	}
	return tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, pub, flush, nil
}

func publicKey(out tpm2.TPM2BPublic) (*ecdsa.PublicKey, error) {
	pub, err := out.Contents()
	if err != nil {
		return nil, err
	}
	parms, err := pub.Parameters.ECCDetail()
	if err != nil {
		return nil, err
	}
	point, err := pub.Unique.ECC()
	if err != nil {
		return nil, err
	}
	return tpm2.ECDSAPub(parms, point)
}

// AttestationKey returns the public half of the TPM's attestation key, the
// key that signs its quotes.
func (t *TPM) AttestationKey() (*ecdsa.PublicKey, error) {
	var pub *ecdsa.PublicKey
	err := t.do(func(tr transport.TPM) error {
		_, k, flush, err := attestationKey(tr)
		if err != nil {
			return err
		}
		flush()
		pub = k
		return nil
	})
	return pub, err
}

// Quote is a TPM quote: what the TPM attests and its signature by the
// attestation key. Nothing in it is verified here; a verifier checks the
// signature over Attest, then reads the nonce and the PCR digest from it.
type Quote struct {
	// Attest is the TPMS_ATTEST structure the TPM signed, as it encoded
	// it: its magic, the nonce (extraData), and the selected PCRs with the
	// SHA-256 digest of their values in selection order.
	Attest []byte
	// Signature is the attestation key's ECDSA signature over
	// SHA-256(Attest), ASN.1 DER encoded (as crypto/ecdsa.VerifyASN1 takes).
	Signature []byte
}

// Quote has the TPM sign the current values of pcrs (of the SHA-256 bank)
// together with nonce, which the verifier chose so that the quote is
// fresh (1 to MaxQuoteNonce bytes).
func (t *TPM) Quote(nonce []byte, pcrs ...int) (*Quote, error) {
	if len(nonce) == 0 || len(nonce) > MaxQuoteNonce {
		return nil, fmt.Errorf("%w: a quote's nonce holds 1 to %d bytes, not %d", ErrInvalidArgument, MaxQuoteNonce, len(nonce))
	}
	if len(pcrs) == 0 {
		return nil, fmt.Errorf("%w: a quote needs at least one PCR", ErrInvalidArgument)
	}
	for _, p := range pcrs {
		if err := checkPCR(p); err != nil {
			return nil, err
		}
	}
	var q *Quote
	err := t.do(func(tr transport.TPM) error {
		ak, _, flush, err := attestationKey(tr)
		if err != nil {
			return err
		}
		defer flush()
		rsp, err := tpm2.Quote{
			SignHandle:     tpm2.AuthHandle{Handle: ak.Handle, Name: ak.Name, Auth: tpm2.PasswordAuth(nil)},
			QualifyingData: tpm2.TPM2BData{Buffer: nonce},
			InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
			PCRSelect:      pcrSelection(pcrs...),
		}.Execute(tr)
		if err != nil {
			return fmt.Errorf("quote: %w", err)
		}
		sig, err := rsp.Signature.Signature.ECDSA()
		if err != nil {
			return fmt.Errorf("quote: %w", err)
		}
		der, err := asn1.Marshal(struct{ R, S *big.Int }{
			new(big.Int).SetBytes(sig.SignatureR.Buffer), new(big.Int).SetBytes(sig.SignatureS.Buffer)})
		if err != nil {
			return fmt.Errorf("quote: %w", err)
		}
		q = &Quote{Attest: rsp.Quoted.Bytes(), Signature: der}
		return nil
	})
	return q, err
}
