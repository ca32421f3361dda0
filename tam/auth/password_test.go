package auth_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/auth"
)

// TestPassword: a hash checks its own password only, is salted, names
// its costs, and a hash that is not one, or names absurd costs, is
// refused rather than computed.
func TestPassword(t *testing.T) {
	t.Parallel()
	rnd := rand.NewChaCha8([32]byte{7})
	h1, err := auth.HashPassword("a long enough password", cheap, rnd)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := auth.HashPassword("a long enough password", cheap, rnd)
	if string(h1) == string(h2) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if !strings.HasPrefix(string(h1), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %s", h1)
	}
	for pw, want := range map[string]bool{"a long enough password": true, "a long enough passworD": false, "": false} {
		if ok, err := auth.CheckPassword(h1, pw); ok != want || err != nil {
			t.Errorf("%q: %v %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5aw"} {
		if _, err := auth.CheckPassword([]byte(bad), "x"); !errors.Is(err, auth.ErrPasswordHash) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
