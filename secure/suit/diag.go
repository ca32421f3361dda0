package suit

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Diagnose renders one CBOR data item in the diagnostic notation of
// RFC 8949 §8, for display: byte strings as h'..', tags as N(..). It
// takes what the strict reader takes (definite lengths, no floats) and
// any tag, nested at most maxNestedLevels deep.
func Diagnose(data []byte) (string, error) {
	r := newReader(data)
	var b strings.Builder
	if err := diagnose(r, &b, maxNestedLevels); err != nil {
		return "", err
	}
	if err := r.done(); err != nil {
		return "", err
	}
	return b.String(), nil
}

func diagnose(r *reader, b *strings.Builder, depth int) error {
	if depth == 0 {
		return r.errf("nested too deeply")
	}
	start := r.off
	major, arg, err := r.head()
	if err != nil {
		return err
	}
	switch major {
	case majorUint:
		fmt.Fprintf(b, "%d", arg)
	case majorNint:
		if arg > 1<<63-1 {
			fmt.Fprintf(b, "-1-%d", arg)
		} else {
			fmt.Fprintf(b, "%d", -1-int64(arg))
		}
	case majorBytes, majorText:
		s, err := r.span(arg)
		if err != nil {
			return err
		}
		if major == majorBytes {
			b.WriteString("h'" + hex.EncodeToString(s) + "'")
		} else {
			b.WriteString(strconv.Quote(string(s)))
		}
	case majorArray, majorMap:
		items := arg
		opening, closing := "[", "]"
		if major == majorMap {
			items, opening, closing = 2*arg, "{", "}"
		}
		if items > uint64(len(r.data)-r.off) {
			return r.errf("container of %d items", arg)
		}
		b.WriteString(opening)
		for i := range items {
			switch {
			case i == 0:
			case major == majorMap && i%2 == 1:
				b.WriteString(": ")
			default:
				b.WriteString(", ")
			}
			if err := diagnose(r, b, depth-1); err != nil {
				return err
			}
		}
		b.WriteString(closing)
	case majorTag:
		fmt.Fprintf(b, "%d(", arg)
		if err := diagnose(r, b, depth-1); err != nil {
			return err
		}
		b.WriteString(")")
	default:
		if r.data[start]&0x1f >= 24 {
			return r.errf("unsupported simple value or float")
		}
		switch arg {
		case 20:
			b.WriteString("false")
		case 21:
			b.WriteString("true")
		case 22:
			b.WriteString("null")
		default:
			fmt.Fprintf(b, "simple(%d)", arg)
		}
	}
	return nil
}
