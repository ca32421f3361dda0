package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/teeup/teeup/attest"
)

// The device signs its claims; a verifier checks the signature with the
// device's registered key and reads the claims only then. (Verifier.Verify
// adds the TPM quote, the event log and the nonce; its tests use the TPM
// simulator.)
func ExampleSignClaims() {
	deviceKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := sha256.Sum256([]byte("secure image"))
	claims := &attest.Claims{
		Nonce:     []byte("verifier-nonce-1"),
		UEID:      append([]byte{0x01}, make([]byte, 16)...),
		OEMID:     []byte{0x00, 0x1A, 0x2B},
		HWModel:   []byte("board"),
		HWVersion: "1.0",
		Debug:     attest.DebugDisabledSinceBoot,
		BootCount: 1,
		Components: []attest.Component{{Name: "['secure']", Kind: attest.KindImage,
			Digest: d[:], ManifestDigest: d[:], Sequence: 3, Signer: d[:]}},
	}
	signed, err := attest.SignClaims(claims, deviceKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := attest.VerifyEAT(signed.COSE, &deviceKey.PublicKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s sequence %d\n", v.Claims.Nonce, v.Claims.Components[0].Name, v.Claims.Components[0].Sequence)
	// Output: verifier-nonce-1 ['secure'] sequence 3
}
