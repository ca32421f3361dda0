package tam

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
)

// KeyFile is the name of the TAM's signing key in its data folder.
const KeyFile = "tam-key.pem"

// ErrKeyFile: the TAM key file is not a P-256 private key only its owner
// can read.
var ErrKeyFile = errors.New("tam: key file")

// LoadOrCreateKey reads the TAM's signing key (ESP256, ECDSA P-256) from
// path, or, when there is none, makes one and writes it there (PKCS #8
// PEM, mode 0600, synced) before it is used: a TAM's key never changes
// under the devices that trust it. created says which. A key file others
// may read or write is refused.
func LoadOrCreateKey(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	key, err = LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
		return key, err == nil, err
	}
	return key, false, err
}

// LoadKey reads the TAM's signing key from path, as LoadOrCreateKey does,
// but makes none: a missing file is an error (fs.ErrNotExist).
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v; it must be readable by its owner alone (chmod 600)", ErrKeyFile, path, st.Mode().Perm())
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxKeyFile {
		return nil, fmt.Errorf("%w: %s is larger than a key", ErrKeyFile, path)
	}
	key, err := parseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyFile, path, err)
	}
	return key, nil
}

func parseKey(raw []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY block")
	}
	if alg := block.Headers["COSE-Algorithm"]; alg != "" && alg != suit.AlgName(teep.AlgESP256) {
		return nil, fmt.Errorf("a key for %s, the TAM signs with ESP256", alg)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	k, ok := priv.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("a %T, the TAM's key is ECDSA P-256", priv)
	}
	return k, nil
}

// createKey makes a key and writes it to path, which must not exist.
func createKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sk, err := suit.NewSigningKey(teep.AlgESP256, key)
	if err != nil {
		return nil, err
	}
	pemBytes, err := sk.MarshalPEM() // records COSE-Algorithm: ESP256
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, werr := f.Write(pemBytes)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		_ = os.Remove(path) // a partial key file must not be read as the key next time
		return nil, fmt.Errorf("tam: write %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // best effort: the file itself is synced
		dir.Close()
	}
	return key, nil
}

// PublicKeyPEM is the PKIX PEM of the TAM key's public half: what devices
// are given to trust (`teeup device init --tam-key`).
func PublicKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
