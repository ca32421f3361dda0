package fetch

import (
	"fmt"
	"strconv"
	"strings"
)

// contentRange is a parsed Content-Range of a byte range (RFC 9110
// section 14.4): "bytes first-last/total", "bytes first-last/*" or
// "bytes */total".
type contentRange struct {
	first, last uint64 // inclusive; unset when unsatisfied
	total       uint64
	hasTotal    bool
	unsatisfied bool // "*/total", sent with a 416
}

// parseContentRange parses v strictly: one range, decimal digits only,
// first <= last < total. Errors wrap ErrBadContentRange.
func parseContentRange(v string) (contentRange, error) {
	var cr contentRange
	bad := func(why string) (contentRange, error) {
		return contentRange{}, fmt.Errorf("%w: %.100q: %s", ErrBadContentRange, v, why)
	}
	if len(v) > maxContentRangeLen {
		return bad("too long")
	}
	unit, spec, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return bad("not a byte range")
	}
	rng, total, ok := strings.Cut(spec, "/")
	if !ok {
		return bad("no complete length")
	}
	if total != "*" {
		n, ok := decimal(total)
		if !ok {
			return bad("bad complete length")
		}
		cr.total, cr.hasTotal = n, true
	}
	if rng == "*" {
		if !cr.hasTotal {
			return bad("neither range nor length")
		}
		cr.unsatisfied = true
		return cr, nil
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return bad("no range")
	}
	if cr.first, ok = decimal(first); !ok {
		return bad("bad first byte")
	}
	if cr.last, ok = decimal(last); !ok {
		return bad("bad last byte")
	}
	if cr.last < cr.first || cr.hasTotal && cr.last >= cr.total {
		return bad("range out of order or past the length")
	}
	return cr, nil
}

// decimal parses 1*DIGIT: no sign, no space, no underscore.
func decimal(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
