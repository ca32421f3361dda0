package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The self-signed certificate's files in the TAM's data directory.
const (
	SelfSignedCert = "tls-cert.pem"
	SelfSignedKey  = "tls-key.pem"
	// selfSignedLifetime is the generated certificate's validity; one
	// that has expired is replaced (with a new fingerprint, printed).
	selfSignedLifetime = 825 * 24 * time.Hour
)

// ErrNoCA: a --tam-ca file with no certificate in it.
var ErrNoCA = errors.New("auth: no PEM certificate in the CA file")

// LoadOrCreateSelfSigned is the TAM's self-signed certificate in dir:
// the one made before, kept across restarts, or a new ECDSA P-256 one
// for hosts (names or addresses; localhost and the loopback addresses
// always) when there is none or it has expired at now. created says a new
// one was made.
func LoadOrCreateSelfSigned(dir string, hosts []string, now time.Time) (cert tls.Certificate, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, SelfSignedCert), filepath.Join(dir, SelfSignedKey)
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && now.Before(cert.Leaf.NotAfter):
		return cert, false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return tls.Certificate{}, false, fmt.Errorf("load %s: %w", certPath, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("self-signed serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "teeup TAM (self-signed)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedLifetime),
		// It is its own root: clients trust it by --tam-ca.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !ip.IsLoopback() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if h != "" && h != "localhost" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("self-signed key: %w", err)
	}
	if err := writeFile0600(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return tls.Certificate{}, false, err
	}
	//nolint:gosec // G306: the certificate is public; clients copy it for --tam-ca
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("write %s: %w", certPath, err)
	}
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load %s: %w", certPath, err)
	}
	return cert, true, nil
}

// WriteFile0600 writes data to path readable by its owner alone (a key,
// a bootstrap token), whatever mode a file already there had.
func WriteFile0600(path string, data []byte) error { return writeFile0600(path, data) }

func writeFile0600(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close() // the chmod's error is the one to report
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // the write's error is the one to report
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Fingerprint is the SHA-256 of a certificate's DER, as colon-separated
// uppercase hex pairs (the form browsers and openssl show).
func Fingerprint(cert tls.Certificate) string {
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	pairs := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		pairs = append(pairs, h[i:i+2])
	}
	return strings.Join(pairs, ":")
}

// ServerTLS is the TAM's TLS configuration: TLS 1.2 and up, with cert.
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
}

// ClientTLS is a client's TLS configuration trusting only the
// certificates in caPEM (--tam-ca): the TAM's self-signed certificate,
// or the CA that issued its certificate.
func ClientTLS(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, ErrNoCA
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}
