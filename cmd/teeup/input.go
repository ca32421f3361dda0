package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/teeup/teeup/secure/suit"
)

// readEnvelope reads an envelope from binary CBOR or hex text (whitespace
// ignored), the form the published vectors take.
func readEnvelope(path string) (*suit.Envelope, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data := decodeMaybeHex(raw)
	env, err := suit.ParseEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env, nil
}

func decodeMaybeHex(raw []byte) []byte {
	text := strings.Join(strings.Fields(string(raw)), "")
	if text == "" || len(text)%2 != 0 {
		return raw
	}
	for _, c := range text {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return raw
		}
	}
	b, err := hex.DecodeString(text)
	if err != nil {
		return raw
	}
	return b
}

func readPublicKeys(paths []string) ([]*suit.Key, error) {
	var keys []*suit.Key
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := suit.ParsePublicKeyPEM(raw)
		if err != nil {
			// A private key file also names its public key.
			sk, perr := suit.ParseSigningKeyPEM(raw)
			if perr != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if k, err = sk.Public(); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func readSigningKeys(paths []string) ([]*suit.SigningKey, error) {
	var keys []*suit.SigningKey
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := suit.ParseSigningKeyPEM(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
