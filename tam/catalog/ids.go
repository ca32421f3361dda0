package catalog

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/teeup/teeup/secure/suit"
)

// ParseComponentID reads a component identifier in one of two forms:
// suit.ComponentID.String's, ['TA','acme'] (each part text in single
// quotes or hex), or text parts joined by slashes, TA/acme. The API's JSON
// and the CLI take both; the API answers in the first.
func ParseComponentID(s string) (suit.ComponentID, error) {
	if len(s) == 0 || len(s) > MaxPrefixText {
		return nil, fmt.Errorf("%w: component ID of %d bytes", ErrInvalid, len(s))
	}
	if !strings.HasPrefix(s, "[") {
		var id suit.ComponentID
		for part := range strings.SplitSeq(s, "/") {
			if part == "" {
				return nil, fmt.Errorf("%w: component ID %q has an empty part", ErrInvalid, s)
			}
			id = append(id, []byte(part))
		}
		return id, nil
	}
	if !strings.HasSuffix(s, "]") || len(s) < 3 {
		return nil, fmt.Errorf("%w: component ID %q: want ['part',...]", ErrInvalid, s)
	}
	body := s[1 : len(s)-1]
	var id suit.ComponentID
	for len(body) > 0 {
		var part []byte
		if body[0] == '\'' {
			end := strings.IndexByte(body[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("%w: component ID %q: an unclosed quote", ErrInvalid, s)
			}
			part, body = []byte(body[1:1+end]), body[2+end:]
		} else {
			end := strings.IndexByte(body, ',')
			if end < 0 {
				end = len(body)
			}
			b, err := hex.DecodeString(body[:end])
			if err != nil || end == 0 {
				return nil, fmt.Errorf("%w: component ID %q: part %q is neither quoted text nor hex", ErrInvalid, s, body[:end])
			}
			part, body = b, body[end:]
		}
		id = append(id, part)
		if len(body) > 0 {
			if body[0] != ',' || len(body) == 1 {
				return nil, fmt.Errorf("%w: component ID %q: parts must be separated by commas", ErrInvalid, s)
			}
			body = body[1:]
		}
	}
	if len(id) == 0 {
		return nil, fmt.Errorf("%w: empty component ID %q", ErrInvalid, s)
	}
	return id, nil
}
