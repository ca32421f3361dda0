package attest

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Register records a nonce the verifier issued by other means (handed to
// a device's operator, as `teeup attest verify --nonce` takes it), under
// Issue's rules: it is good for the TTL and accepted once. It must hold
// MinNonce to MaxNonce bytes.
func (s *NonceStore) Register(nonce []byte) error {
	if len(nonce) < MinNonce || len(nonce) > MaxNonce {
		return fmt.Errorf("%w: a nonce of %d bytes, want %d..%d", ErrNonce, len(nonce), MinNonce, MaxNonce)
	}
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
