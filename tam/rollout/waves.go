package rollout

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teeup/teeup/tam/store"
)

// Wave is the size of one wave as the operator gives it: a count of
// devices, or a percentage of the group.
type Wave struct {
	Count   int
	Percent int
}

// String is the wave as ParseWaves reads it.
func (w Wave) String() string {
	if w.Percent > 0 {
		return fmt.Sprintf("%d%%", w.Percent)
	}
	return strconv.Itoa(w.Count)
}

// ParseWaves reads waves written as "10,25%,100%": each a count of
// devices or a percentage (1 to 100) of the group.
func ParseWaves(s string) ([]Wave, error) {
	var out []Wave
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		var w Wave
		num, pct := strings.CutSuffix(part, "%")
		n, err := strconv.Atoi(num)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: wave %q: not a count or a percentage", ErrInvalid, part)
		case pct:
			w.Percent = n
		default:
			w.Count = n
		}
		out = append(out, w)
	}
	return out, checkWaves(out)
}

func checkWaves(ws []Wave) error {
	if len(ws) == 0 || len(ws) > store.MaxWaves {
		return fmt.Errorf("%w: %d waves, not 1 to %d", ErrInvalid, len(ws), store.MaxWaves)
	}
	for i, w := range ws {
		switch {
		case w.Count != 0 && w.Percent != 0:
			return fmt.Errorf("%w: wave %d is both a count and a percentage", ErrInvalid, i)
		case w.Percent == 0 && (w.Count < 1 || w.Count > store.MaxRolloutDevices):
			return fmt.Errorf("%w: wave %d of %d devices", ErrInvalid, i, w.Count)
		case w.Count == 0 && (w.Percent < 1 || w.Percent > 100):
			return fmt.Errorf("%w: wave %d of %d%%, not 1%% to 100%%", ErrInvalid, i, w.Percent)
		}
	}
	return nil
}

// Sizes freezes waves over a group of n devices: each wave takes its
// count, or its percentage of n rounded up, of the devices still left;
// the devices left after the last wave given form one more wave. Waves
// that would be empty (the group is used up) are dropped, so every size
// is at least one and the sizes sum to n.
func Sizes(ws []Wave, n int) []int {
	var sizes []int
	left := n
	for _, w := range ws {
		size := w.Count
		if w.Percent > 0 {
			size = (w.Percent*n + 99) / 100
		}
		size = min(size, left)
		if size > 0 {
			sizes = append(sizes, size)
			left -= size
		}
	}
	if left > 0 {
		sizes = append(sizes, left)
	}
	return sizes
}
