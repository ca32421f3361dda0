package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want contentRange
		ok   bool
	}{
		{"bytes 0-99/100", contentRange{first: 0, last: 99, total: 100, hasTotal: true}, true},
		{"bytes 40-49/*", contentRange{first: 40, last: 49}, true},
		{"BYTES 5-5/6", contentRange{first: 5, last: 5, total: 6, hasTotal: true}, true},
		{"bytes */100", contentRange{total: 100, hasTotal: true, unsatisfied: true}, true},
		{"bytes 0-18446744073709551614/18446744073709551615", contentRange{last: 1<<64 - 2, total: 1<<64 - 1, hasTotal: true}, true},
		{"", contentRange{}, false},
		{"bytes", contentRange{}, false},
		{"bytes 0-99", contentRange{}, false},
		{"items 0-99/100", contentRange{}, false},
		{"bytes */*", contentRange{}, false},
		{"bytes 10-9/100", contentRange{}, false},
		{"bytes 0-100/100", contentRange{}, false},
		{"bytes -1-99/100", contentRange{}, false},
		{"bytes +0-99/100", contentRange{}, false},
		{"bytes 0-+99/100", contentRange{}, false},
		{"bytes 0 -99/100", contentRange{}, false},
		{"bytes  0-99/100", contentRange{}, false},
		{"bytes 0-99/100 ", contentRange{}, false},
		{"bytes 0_0-99/100", contentRange{}, false},
		{"bytes 0x0-99/100", contentRange{}, false},
		{"bytes 0-99/-100", contentRange{}, false},
		{"bytes 0-99,200-299/1000", contentRange{}, false},
		{"bytes 0-18446744073709551616/*", contentRange{}, false},
		{"bytes 0-1/" + strings.Repeat("0", 90) + "2", contentRange{}, false}, // longer than maxContentRangeLen
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseContentRange(tc.in)
			if !tc.ok {
				if !errors.Is(err, ErrBadContentRange) {
					t.Errorf("parse: %+v, %v; want ErrBadContentRange", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parse: %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// Whatever a server sends, the parser does not panic, and what it accepts
// obeys first <= last < total and prints back to an equivalent value.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 40-49/*", "bytes */100", "bytes 10-9/100", "bytes 0-99", "bytes 007-8/9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseContentRange(s)
		if err != nil {
			return
		}
		if !cr.unsatisfied && (cr.last < cr.first || cr.hasTotal && cr.last >= cr.total) {
			t.Fatalf("%q: accepted %+v", s, cr)
		}
		again, err := parseContentRange(format(cr))
		if err != nil || again != cr {
			t.Fatalf("%q: %+v printed as %q parses to %+v, %v", s, cr, format(cr), again, err)
		}
	})
}

func format(cr contentRange) string {
	total := "*"
	if cr.hasTotal {
		total = fmt.Sprint(cr.total)
	}
	if cr.unsatisfied {
		return "bytes */" + total
	}
	return fmt.Sprintf("bytes %d-%d/%s", cr.first, cr.last, total)
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-7", 0},
		{"1.5", 0},
		{"Fri, 31 Dec 1999 23:59:59 GMT", 0},
		{"99999999999999999999", 0}, // beyond uint64
		{"18446744073709551615", 9223372036 * time.Second}, // clamped, no overflow
	} {
		if got := ParseRetryAfter(tc.in); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDelay(t *testing.T) {
	d, err := New(Config{Backoff: Backoff{Initial: ms(100), Max: ms(1000)}})
	if err != nil {
		t.Fatal(err)
	}
	transient := errors.New("connection reset")
	for _, tc := range []struct {
		attempt int
		err     error
		want    time.Duration
	}{
		{1, transient, ms(100)},
		{2, transient, ms(200)},
		{4, transient, ms(800)},
		{5, transient, ms(1000)},
		{MaxAttemptsLimit, transient, ms(1000)},
		{1, &StatusError{StatusCode: 503, RetryAfter: ms(500)}, ms(500)},
		{4, &StatusError{StatusCode: 503, RetryAfter: ms(500)}, ms(800)},
		{1, &StatusError{StatusCode: 503, RetryAfter: time.Hour}, ms(1000)},
	} {
		if got := d.delay(tc.attempt, tc.err); got != tc.want {
			t.Errorf("delay(%d, %v) = %v, want %v", tc.attempt, tc.err, got, tc.want)
		}
	}
}

// The real Sleep returns at once when the context is done: no time passes
// in this test.
func TestSleepContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext: %v, want context.Canceled", err)
	}
	if err := sleepContext(context.Background(), 0); err != nil {
		t.Errorf("sleepContext(0): %v", err)
	}
}
