package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// An API token is "teeup_<id>_<secret>": id is 8 random bytes and secret
// 32, both lowercase hex (no "_" inside either, so the split is
// unambiguous). The id names the token in listings, the audit trail and
// revocation; the secret is what proves it.
const (
	tokenPrefix    = "teeup_"
	tokenIDBytes   = 8
	tokenSecBytes  = 32
	tokenIDHexLen  = 2 * tokenIDBytes
	tokenSecHexLen = 2 * tokenSecBytes
)

// ErrMalformedToken: a bearer token that is not of our format.
var ErrMalformedToken = fmt.Errorf("%w: malformed token", ErrBadCredentials)

// NewToken draws a fresh token from rand: its id, the token to show once,
// and the hash to store.
func NewToken(rand io.Reader) (id, token string, hash []byte, err error) {
	var b [tokenIDBytes + tokenSecBytes]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", "", nil, fmt.Errorf("draw token: %w", err)
	}
	id = hex.EncodeToString(b[:tokenIDBytes])
	token = tokenPrefix + id + "_" + hex.EncodeToString(b[tokenIDBytes:])
	return id, token, TokenHash(token), nil
}

// ParseToken splits a presented token into its id and secret, refusing
// anything that is not exactly our format (ErrMalformedToken).
func ParseToken(token string) (id, secret string, err error) {
	if len(token) > MaxTokenLen {
		return "", "", fmt.Errorf("%w: %d bytes", ErrMalformedToken, len(token))
	}
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", "", fmt.Errorf("%w: no %q prefix", ErrMalformedToken, tokenPrefix)
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != tokenIDHexLen || len(secret) != tokenSecHexLen || !isLowerHex(id) || !isLowerHex(secret) {
		return "", "", fmt.Errorf("%w: not teeup_<16 hex>_<64 hex>", ErrMalformedToken)
	}
	return id, secret, nil
}

// TokenHash is what the store keeps of a token: SHA-256 of the whole
// token. A fast hash is enough here, unlike for passwords: the secret is
// 256 random bits, so no guess list or brute force gets anywhere near it
// whatever the hash costs, and a slow hash would only slow every API call.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
