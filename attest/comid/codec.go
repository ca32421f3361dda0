package comid

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decode reads one JSON value into v, refusing unknown fields, a second
// value and anything past MaxEncoded.
func decode(b []byte, v any) error {
	if len(b) > MaxEncoded {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), MaxEncoded)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: more than one JSON value", ErrMalformed)
	}
	return nil
}

func encode(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
