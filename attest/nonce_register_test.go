package attest

import (
	"errors"
	"testing"
	"time"
)

// TestNonceRegister: a registered nonce is accepted once, before it
// expires; one out of bounds is refused.
func TestNonceRegister(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	s := &NonceStore{Now: clock.Now, TTL: time.Minute}
	n := []byte("operator's nonce")
	if err := s.Register(n); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(n); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.Consume(n); !errors.Is(err, ErrNonce) {
		t.Fatalf("second use: %v, want ErrNonce", err)
	}
	if err := s.Register(n); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(time.Minute)
	if err := s.Consume(n); !errors.Is(err, ErrNonce) {
		t.Fatalf("expired: %v, want ErrNonce", err)
	}
	for _, size := range []int{0, MinNonce - 1, MaxNonce + 1} {
		if err := s.Register(make([]byte, size)); !errors.Is(err, ErrNonce) {
			t.Errorf("a nonce of %d bytes: %v", size, err)
		}
	}
}
