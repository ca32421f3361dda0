package main

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/teeup/teeup/secure/suit"
)

// readEnvelope reads an envelope (standard input for "-") from binary
// CBOR or hex text (whitespace ignored), the form the published vectors
// take.
func (a *app) readEnvelope(path string) (*suit.Envelope, error) {
	raw, err := a.readFile(path)
	if err != nil {
		return nil, err
	}
	data := decodeMaybeHex(raw)
	env, err := suit.ParseEnvelope(data)
	if err != nil {
		return nil, notEnvelope(displayName(path), err)
	}
	return env, nil
}

// displayName is how messages call a file name: "-" is standard input.
func displayName(path string) string {
	if path == stdio {
		return "standard input"
	}
	return path
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

// readMACKey reads an HMAC-SHA256 manifest key: the file's bytes exactly,
// as a raw secret (no encoding, no trailing newline).
func readMACKey(path string) (*suit.Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := suit.NewMACKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// readKEK reads an A128KW key-encryption key: exactly 16 raw bytes.
func readKEK(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) != 16 {
		return nil, fmt.Errorf("%s: a KEK is 16 raw bytes, the file has %d", path, len(raw))
	}
	return raw, nil
}

// readAgreementKey reads a P-256 private key (PKCS#8 or SEC 1 PEM) for
// ECDH-ES key agreement.
func readAgreementKey(path string) (*ecdh.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		err = fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var ek *ecdh.PrivateKey
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		ek, err = k.ECDH()
	case *ecdh.PrivateKey:
		ek = k
	default:
		err = fmt.Errorf("%T is not an EC key", key)
	}
	if err == nil && ek.Curve() != ecdh.P256() {
		err = errors.New("not a P-256 key")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ek, nil
}

// verificationKeys gathers the --key public keys and the --mac-key secret.
func verificationKeys(keyPaths []string, macPath string) ([]*suit.Key, error) {
	keys, err := readPublicKeys(keyPaths)
	if err != nil {
		return nil, err
	}
	if macPath != "" {
		k, err := readMACKey(macPath)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// trustAnchors makes the trust policy of process: each --key (and the MAC
// key) may touch every component; each --anchor only its prefixes.
func trustAnchors(everything []*suit.Key, specs []string) (suit.TrustAnchors, error) {
	var anchors suit.TrustAnchors
	for _, k := range everything {
		anchors = append(anchors, suit.TrustAnchor{Key: k, Prefixes: []suit.ComponentID{{}}})
	}
	for _, spec := range specs {
		file, list, ok := strings.Cut(spec, "=")
		if !ok || list == "" {
			return nil, usageError("--anchor takes PUB.pem=PREFIX[,PREFIX], got %q", spec)
		}
		keys, err := readPublicKeys([]string{file})
		if err != nil {
			return nil, err
		}
		a := suit.TrustAnchor{Key: keys[0]}
		for _, p := range strings.Split(list, ",") {
			id, err := parsePrefix(p)
			if err != nil {
				return nil, usageError("--anchor %s: %v", spec, err)
			}
			a.Prefixes = append(a.Prefixes, id)
		}
		anchors = append(anchors, a)
	}
	return anchors, nil
}

// parsePrefix reads a component ID prefix: "text:NAME" for a one-part
// text identifier, else hex parts joined by '/'.
func parsePrefix(s string) (suit.ComponentID, error) {
	if name, ok := strings.CutPrefix(s, "text:"); ok {
		return suit.ComponentID{[]byte(name)}, nil
	}
	id := suit.ComponentID{}
	for _, part := range strings.Split(s, "/") {
		b, err := hex.DecodeString(part)
		if err != nil {
			return nil, fmt.Errorf("prefix part %q is not hex", part)
		}
		id = append(id, b)
	}
	return id, nil
}
