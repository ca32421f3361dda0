package rollout_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/teeup/teeup/tam/rollout"
)

func TestSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		waves string
		n     int
		want  []int
	}{
		{"counts, the rest in a last wave", "1,2", 6, []int{1, 2, 3}},
		{"counts use the group up", "2,4", 6, []int{2, 4}},
		{"a count larger than the group", "10", 3, []int{3}},
		{"percentages round up", "10%,50%", 11, []int{2, 6, 3}},
		{"percentages of the whole group", "10%,30%,100%", 1000, []int{100, 300, 600}},
		{"count then percentage", "5,50%", 100, []int{5, 50, 45}},
		{"empty waves dropped", "1,1,100%,5", 3, []int{1, 1, 1}},
		{"one device", "50%", 1, []int{1}},
		{"three waves of 1000", "1%,10%,100%", 1000, []int{10, 100, 890}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws, err := rollout.ParseWaves(tc.waves)
			if err != nil {
				t.Fatal(err)
			}
			got := rollout.Sizes(ws, tc.n)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Sizes(%s, %d) = %v, want %v", tc.waves, tc.n, got, tc.want)
			}
			sum := 0
			for _, s := range got {
				sum += s
			}
			if sum != tc.n {
				t.Fatalf("sizes %v hold %d devices, the group %d", got, sum, tc.n)
			}
		})
	}
}

func TestParseWavesRefuses(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "0", "-1", "0%", "101%", "ten", "5,,5", "1.5", "%", "50%%"} {
		if _, err := rollout.ParseWaves(s); !errors.Is(err, rollout.ErrInvalid) {
			t.Errorf("ParseWaves(%q): %v, want ErrInvalid", s, err)
		}
	}
}
