package suit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key is a key that authentication blocks are checked against: a public
// key (ECDSA P-256 or P-384, Ed25519) or a MAC secret.
type Key struct {
	// ID names the key: hex SHA-256 of its SubjectPublicKeyInfo, or of
	// "mac:" and the secret for a MAC key (so that the ID does not reveal it).
	ID     string
	Public crypto.PublicKey
	secret []byte
}

// NewPublicKey wraps a public key.
func NewPublicKey(pub crypto.PublicKey) (*Key, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unsupported public key type %T", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Key{ID: hex.EncodeToString(sum[:]), Public: pub}, nil
}

// NewMACKey wraps an HMAC-SHA256 secret (COSE_Mac0, algorithm 5).
func NewMACKey(secret []byte) (*Key, error) {
	if len(secret) < 16 {
		return nil, errors.New("MAC key shorter than 16 bytes")
	}
	sum := sha256.Sum256(append([]byte("mac:"), secret...))
	return &Key{ID: hex.EncodeToString(sum[:]), secret: append([]byte(nil), secret...)}, nil
}

// ParsePublicKeyPEM reads a PEM "PUBLIC KEY" block.
func ParsePublicKeyPEM(data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	return NewPublicKey(pub)
}

// SigningKey signs authentication blocks with one COSE algorithm.
type SigningKey struct {
	Alg     int64
	private crypto.Signer
	secret  []byte
}

// AlgName names a COSE signing or MAC algorithm.
func AlgName(alg int64) string {
	switch alg {
	case AlgES256:
		return "ES256"
	case AlgESP256:
		return "ESP256"
	case AlgES384:
		return "ES384"
	case AlgEdDSA:
		return "EdDSA"
	case AlgEd25519:
		return "Ed25519"
	case AlgHMAC256:
		return "HMAC256"
	}
	return fmt.Sprintf("alg(%d)", alg)
}

// ParseAlg reads an algorithm name as AlgName writes it.
func ParseAlg(name string) (int64, error) {
	for _, a := range []int64{AlgES256, AlgESP256, AlgES384, AlgEdDSA, AlgEd25519, AlgHMAC256} {
		if AlgName(a) == name {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown algorithm %q", name)
}

// GenerateSigningKey makes a fresh key for alg.
func GenerateSigningKey(alg int64) (*SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256, AlgESP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case AlgEdDSA, AlgEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, unsupported("key generation for %s", AlgName(alg))
	}
	if err != nil {
		return nil, err
	}
	return &SigningKey{Alg: alg, private: priv}, nil
}

// NewSigningKey wraps a private key for alg.
func NewSigningKey(alg int64, priv crypto.Signer) (*SigningKey, error) {
	s := &SigningKey{Alg: alg, private: priv}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		want := elliptic.P256()
		if alg == AlgES384 {
			want = elliptic.P384()
		}
		if (alg != AlgES256 && alg != AlgESP256 && alg != AlgES384) || k.Curve != want {
			return nil, fmt.Errorf("%s does not fit a %s key", AlgName(alg), k.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
		if alg != AlgEdDSA && alg != AlgEd25519 {
			return nil, fmt.Errorf("%s does not fit an Ed25519 key", AlgName(alg))
		}
	default:
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	return s, nil
}

// NewMACSigningKey wraps an HMAC-SHA256 secret for COSE_Mac0.
func NewMACSigningKey(secret []byte) (*SigningKey, error) {
	if len(secret) < 16 {
		return nil, errors.New("MAC key shorter than 16 bytes")
	}
	return &SigningKey{Alg: AlgHMAC256, secret: append([]byte(nil), secret...)}, nil
}

// Public returns the verification key for s.
func (s *SigningKey) Public() (*Key, error) {
	if s.secret != nil {
		return NewMACKey(s.secret)
	}
	return NewPublicKey(s.private.Public())
}

// MarshalPEM encodes the private key as PKCS#8 PEM; the algorithm is kept
// in a header so that ES256 and ESP256 keys stay apart.
func (s *SigningKey) MarshalPEM() ([]byte, error) {
	if s.private == nil {
		return nil, errors.New("a MAC key has no PEM form")
	}
	der, err := x509.MarshalPKCS8PrivateKey(s.private)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"COSE-Algorithm": AlgName(s.Alg)}, Bytes: der}), nil
}

// MarshalPublicPEM encodes the public key as PEM.
func (s *SigningKey) MarshalPublicPEM() ([]byte, error) {
	if s.private == nil {
		return nil, errors.New("a MAC key has no public key")
	}
	der, err := x509.MarshalPKIXPublicKey(s.private.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParseSigningKeyPEM reads a PKCS#8 or SEC1 private key. The algorithm comes
// from the COSE-Algorithm header when present, else from the key type
// (ES256 for P-256, ES384 for P-384, EdDSA for Ed25519).
func ParseSigningKeyPEM(data []byte) (*SigningKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var priv any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	var alg int64
	if name := block.Headers["COSE-Algorithm"]; name != "" {
		if alg, err = ParseAlg(name); err != nil {
			return nil, err
		}
	} else {
		switch k := signer.(type) {
		case *ecdsa.PrivateKey:
			alg = AlgES256
			if k.Curve == elliptic.P384() {
				alg = AlgES384
			}
		case ed25519.PrivateKey:
			alg = AlgEdDSA
		}
	}
	return NewSigningKey(alg, signer)
}
