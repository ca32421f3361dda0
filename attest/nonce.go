package attest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"
)

// NonceStore issues the verifier's challenges and accepts each once,
// before it expires. It is safe for concurrent use.
type NonceStore struct {
	// TTL is how long an issued nonce stays good (DefaultNonceTTL if 0).
	TTL time.Duration
	// Now is the clock (time.Now if nil); Rand the randomness
	// (crypto/rand if nil).
	Now  func() time.Time
	Rand io.Reader

	mu     sync.Mutex
	issued map[string]time.Time // nonce (hex) → expiry
}

// DefaultNonceTTL is how long a nonce stays good by default: enough for a
// device to quote and answer over a slow link.
const DefaultNonceTTL = 2 * time.Minute

// NonceSize is the size of the nonces Issue draws.
const NonceSize = 32

func (s *NonceStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Issue draws a fresh nonce and remembers it until it expires.
func (s *NonceStore) Issue() ([]byte, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	n := make([]byte, NonceSize)
	if _, err := io.ReadFull(r, n); err != nil {
		return nil, fmt.Errorf("attest: draw nonce: %w", err)
	}
	if err := s.remember(n); err != nil {
		return nil, err
	}
	return n, nil
}

// remember records nonce as issued, good for the TTL, within
// MaxOutstandingNonces.
func (s *NonceStore) remember(nonce []byte) error {
	ttl := s.TTL
	if ttl == 0 {
		ttl = DefaultNonceTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.expire(now)
	if len(s.issued) >= MaxOutstandingNonces {
		return fmt.Errorf("attest: %d nonces outstanding, limit %d", len(s.issued), MaxOutstandingNonces)
	}
	if s.issued == nil {
		s.issued = make(map[string]time.Time)
	}
	s.issued[hex.EncodeToString(nonce)] = now.Add(ttl)
	return nil
}

// Consume accepts nonce if it was issued, has not expired and was not
// consumed before; then it is gone. Otherwise it returns ErrNonce.
func (s *NonceStore) Consume(nonce []byte) error {
	if len(nonce) == 0 {
		return fmt.Errorf("%w: no nonce", ErrNonce)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := hex.EncodeToString(nonce)
	expiry, ok := s.issued[key]
	if !ok {
		return fmt.Errorf("%w: not issued or used before", ErrNonce)
	}
	delete(s.issued, key)
	if !s.now().Before(expiry) {
		return fmt.Errorf("%w: expired at %s", ErrNonce, expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

// expire forgets nonces past their expiry.
func (s *NonceStore) expire(now time.Time) {
	for k, exp := range s.issued {
		if !now.Before(exp) {
			delete(s.issued, k)
		}
	}
}

// Register records a nonce the verifier issued by other means (handed to
// a device's operator, as `teeup attest verify --nonce` takes it), under
// Issue's rules: it is good for the TTL and accepted once. It must hold
// MinNonce to MaxNonce bytes.
func (s *NonceStore) Register(nonce []byte) error {
	if len(nonce) < MinNonce || len(nonce) > MaxNonce {
		return fmt.Errorf("%w: a nonce of %d bytes, want %d..%d", ErrNonce, len(nonce), MinNonce, MaxNonce)
	}
	return s.remember(nonce)
}
