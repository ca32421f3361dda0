package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's costs. The zero value means
// DefaultPasswordParams; tests use cheap ones.
type PasswordParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultPasswordParams are RFC 9106's second recommended option
// (64 MiB, 3 passes), with 4 lanes.
var DefaultPasswordParams = PasswordParams{Time: 3, Memory: 64 << 10, Threads: 4}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrPasswordHash: a stored password hash this code cannot read.
var ErrPasswordHash = fmt.Errorf("auth: unreadable password hash")

// HashPassword is the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=..,t=..,p=..$salt$key), so that a stored hash names
// its own costs and survives a change of the defaults.
func HashPassword(password string, p PasswordParams, rand io.Reader) ([]byte, error) {
	if p == (PasswordParams{}) {
		p = DefaultPasswordParams
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, fmt.Errorf("draw salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, comparing the
// derived keys in constant time.
func CheckPassword(hash []byte, password string) (bool, error) {
	parts := strings.Split(string(hash), "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, ErrPasswordHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("%w: %w", ErrPasswordHash, err)
	}
	if p.Time == 0 || p.Time > maxHashTime || p.Memory == 0 || p.Memory > maxHashMemory || p.Threads == 0 {
		return false, fmt.Errorf("%w: costs out of bounds", ErrPasswordHash)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, fmt.Errorf("%w: salt", ErrPasswordHash)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, fmt.Errorf("%w: key", ErrPasswordHash)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
