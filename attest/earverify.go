package attest

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/veraison/ear"
)

// VerifyEAR checks an attestation result: its JWT signature (ES256) by
// pub, the verifier's key, then its claims as the ear package validates
// them, and that its iat is an integer (RFC 9711 and the EAR CDDL forbid
// a float, which JSON parsers otherwise accept). At most MaxEAR bytes.
func VerifyEAR(jwt []byte, pub *ecdsa.PublicKey) (*ear.AttestationResult, error) {
	if len(jwt) > MaxEAR {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrResult, len(jwt), MaxEAR)
	}
	var ar ear.AttestationResult
	if err := ar.Verify(jwt, jwa.ES256(), pub); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrResult, err)
	}
	parts := bytes.Split(jwt, []byte("."))
	payload, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrResult, err)
	}
	var claims struct {
		IssuedAt json.Number `json:"iat"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrResult, err)
	}
	if _, err := claims.IssuedAt.Int64(); err != nil {
		return nil, fmt.Errorf("%w: iat %s is not an integer", ErrResult, claims.IssuedAt)
	}
	return &ar, nil
}
