package auth_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
)

// TestNewRate: a configured rate is refused unless it refills and admits
// something, within the bounds.
func TestNewRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		per   float64
		burst int
		want  error
	}{
		{5, 20, nil},
		{0.001, 1, nil},
		{auth.MaxRatePerSecond, auth.MaxBurst, nil},
		{0, 20, auth.ErrRate},
		{-1, 20, auth.ErrRate},
		{math.NaN(), 20, auth.ErrRate},
		{math.Inf(1), 20, auth.ErrRate},
		{auth.MaxRatePerSecond * 2, 20, auth.ErrRate},
		{5, 0, auth.ErrRate},
		{5, -3, auth.ErrRate},
		{5, auth.MaxBurst + 1, auth.ErrRate},
	} {
		r, err := auth.NewRate(tc.per, tc.burst)
		if !errors.Is(err, tc.want) {
			t.Errorf("NewRate(%v, %d) = %v, want %v", tc.per, tc.burst, err, tc.want)
		}
		if err == nil && (float64(r.Per) != tc.per || r.Burst != tc.burst) {
			t.Errorf("NewRate(%v, %d) = %+v", tc.per, tc.burst, r)
		}
	}
}

// TestConfiguredTEEPRate: the gate holds the TEEP endpoint to the rate it
// is given, counted on a fixed clock: the burst passes and the next is
// refused 429; after 1/rate seconds exactly one more passes, and after
// a long while no more than the burst.
func TestConfiguredTEEPRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		per   float64
		burst int
	}{
		{0.5, 1},
		{float64(auth.DefaultTEEPRate.Per), auth.DefaultTEEPRate.Burst},
		{200, 50},
		{5000, 300},
	} {
		t.Run(fmt.Sprintf("%v/s burst %d", tc.per, tc.burst), func(t *testing.T) {
			t.Parallel()
			r, err := auth.NewRate(tc.per, tc.burst)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, auth.Config{TEEPRate: r})
			rt, _ := auth.RouteByName(auth.RouteTEEP)
			passed := func(n int) int {
				ok := 0
				for range n {
					req := f.request(rt)
					req.RemoteAddr = "192.0.2.7:4000"
					if f.do(req).StatusCode != http.StatusTooManyRequests {
						ok++
					}
				}
				return ok
			}
			if got := passed(tc.burst + 1); got != tc.burst {
				t.Fatalf("%d of %d at once passed, want the burst %d", got, tc.burst+1, tc.burst)
			}
			f.clock.Advance(time.Duration(float64(time.Second) / tc.per))
			if got := passed(2); got != 1 {
				t.Fatalf("after 1/rate: %d of 2 passed, want 1", got)
			}
			f.clock.Advance(time.Hour)
			if got := passed(tc.burst + 1); got != tc.burst {
				t.Fatalf("after an hour: %d of %d passed, want the burst %d", got, tc.burst+1, tc.burst)
			}
		})
	}
}
