package attest

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/veraison/ear"
)

// EARSubmod is the name of the one submodule of our attestation results.
const EARSubmod = "teeup"

// ResultOptions are what an attestation result says of its verifier.
type ResultOptions struct {
	// Build and Developer identify the verifier (AR4SI verifier-id).
	Build, Developer string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// result builds the EAR of an appraisal.
func (o ResultOptions) result(vector ear.TrustVector, status ear.TrustTier, nonce []byte, reasons []Reason) *ear.AttestationResult {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	ar := ear.NewAttestationResult(EARSubmod, o.Build, o.Developer)
	iat := now().Unix()
	ar.IssuedAt = &iat
	if len(nonce) > 0 {
		n := base64.RawURLEncoding.EncodeToString(nonce)
		ar.Nonce = &n
	}
	sub := ar.Submods[EARSubmod]
	sub.TrustVector = &vector
	sub.Status = &status
	if len(reasons) > 0 {
		list := make([]any, len(reasons))
		for i, r := range reasons {
			m := map[string]any{"claim": r.Claim, "value": int(r.Value), "detail": r.Detail}
			if r.Component != "" {
				m["component"] = r.Component
			}
			list[i] = m
		}
		sub.VeraisonPolicyClaims = &map[string]any{"teeup.reasons": list}
	}
	return ar
}

// EAR is the appraisal as an EAR (draft-ietf-rats-ear) with its AR4SI
// trustworthiness vector and, in ear.veraison.policy-claims, the reason
// for each claim that is not affirming; signed as a JWT (ES256) by key.
func (a *Appraisal) EAR(key crypto.Signer, o ResultOptions) ([]byte, error) {
	ar := o.result(a.Vector, a.Status, a.Claims.Nonce, a.Reasons)
	return signEAR(ar, key)
}

// RefusalEAR is the attestation result of evidence that Verify refused:
// the claim the refusal is about is contraindicated, with the reason.
func RefusalEAR(refusal error, key crypto.Signer, o ResultOptions) ([]byte, error) {
	var v ear.TrustVector
	name, claim := "instance-identity", &v.InstanceIdentity
	value := ear.CryptoValidationFailedClaim
	switch {
	case errors.Is(refusal, ErrUnregistered):
		value = ear.UnrecognizedInstanceClaim
	case errors.Is(refusal, ErrQuote), errors.Is(refusal, ErrEventLog), errors.Is(refusal, ErrMeasurements):
		name, claim = "executables", &v.Executables
	case errors.Is(refusal, ErrNonce), errors.Is(refusal, ErrMalformed):
		value = ear.UnexpectedEvidenceClaim
	}
	*claim = value
	// Refused evidence is never trustworthy, whatever tier the one claim
	// the refusal is about has on its own.
	ar := o.result(v, ear.TrustTierContraindicated, nil, []Reason{{Claim: name, Value: value, Err: refusal, Detail: refusal.Error()}})
	return signEAR(ar, key)
}

func signEAR(ar *ear.AttestationResult, key crypto.Signer) ([]byte, error) {
	b, err := ar.Sign(jwa.ES256(), key)
	if err != nil {
		return nil, fmt.Errorf("attest: sign EAR: %w", err)
	}
	return b, nil
}
