package comid

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Hex is a byte string written as lowercase hex in JSON.
type Hex []byte

// MarshalJSON implements json.Marshaler.
func (h Hex) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// UnmarshalJSON implements json.Unmarshaler.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: want a hex string", ErrMalformed)
	}
	if len(s) > 2*MaxBytesField {
		return fmt.Errorf("%w: a hex field of %d characters, limit %d", ErrMalformed, len(s), 2*MaxBytesField)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	*h = v
	return nil
}
