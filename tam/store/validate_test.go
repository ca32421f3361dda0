package store

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestValidAdvance(t *testing.T) {
	t.Parallel()
	states := []SessionState{QuerySent, UpdateSent, Done, "", "sent"}
	allowed := map[[2]SessionState]bool{
		{QuerySent, UpdateSent}: true,
		{QuerySent, Done}:       true,
		{UpdateSent, Done}:      true,
	}
	for _, from := range states {
		for _, to := range states {
			err := ValidAdvance(from, to)
			if ok := allowed[[2]SessionState{from, to}]; ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("%q -> %q: %v", from, to, err)
			}
		}
	}
}

func TestValidTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		t    time.Time
		ok   bool
	}{
		{"zero", time.Time{}, true},
		{"now", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), true},
		{"the epoch", time.Unix(0, 0), true},
		{"the last nanosecond", time.Unix(0, math.MaxInt64), true},
		{"past the last", time.Unix(0, math.MaxInt64).Add(1), false},
		{"the first nanosecond, kept for the zero time", time.Unix(0, math.MinInt64), false},
		{"after it", time.Unix(0, math.MinInt64+1), true},
		{"year 1", time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), false},
	} {
		if err := ValidTime(tc.name, tc.t); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
