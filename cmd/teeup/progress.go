package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// progress shows how a long operation goes: on a terminal, a bar with the
// percentage, the rate and the time left, redrawn in place; elsewhere (a
// log, a pipe) a line every lineEvery at most, and the last one.
type progress struct {
	w   io.Writer
	tty bool
	now func() time.Time

	item          string
	done, total   uint64
	first         uint64 // done at the item's first report, when start was taken
	start, lastAt time.Time
	drawn         bool // a bar is on the terminal's current line
}

// lineEvery is how often a progress line goes to a file or a pipe.
const lineEvery = 3 * time.Second

func newProgress(w io.Writer, tty bool, now func() time.Time) *progress {
	return &progress{w: w, tty: tty, now: now}
}

// payloadLine is how the normal world reports a payload's progress.
var payloadLine = regexp.MustCompile(`^payload (\S+): (\d+)/(\d+) bytes$`)

// line takes one line the operation reports: a payload's progress feeds
// the bar, anything else is printed as it is.
func (p *progress) line(s string) {
	if m := payloadLine.FindStringSubmatch(s); m != nil {
		done, err1 := strconv.ParseUint(m[2], 10, 64)
		total, err2 := strconv.ParseUint(m[3], 10, 64)
		if err1 == nil && err2 == nil {
			p.update(m[1], done, total)
			return
		}
	}
	p.finish() // a bar stays, as far as it got
	fmt.Fprintln(p.w, s)
}

// update records that done of total bytes of item are through.
func (p *progress) update(item string, done, total uint64) {
	now := p.now()
	if item != p.item {
		p.finish()
		p.item, p.first, p.start, p.lastAt = item, done, now, time.Time{}
	}
	p.done, p.total = done, total
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", p.bar(now))
		p.drawn = true
	case done >= total || p.lastAt.IsZero() || now.Sub(p.lastAt) >= lineEvery:
		fmt.Fprintln(p.w, p.text(now))
		p.lastAt = now
	}
}

// bar is the terminal form: [#####.....]  45%  12.0 MiB/s  ETA 3s  item
func (p *progress) bar(now time.Time) string {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = int(uint64(width) * min(p.done, p.total) / p.total)
	}
	return fmt.Sprintf("[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.text(now))
}

// text is the percentage, the amount, the rate and the time left.
func (p *progress) text(now time.Time) string {
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	s := fmt.Sprintf("%3.0f%% %s of %s", pct, formatBytes(p.done), formatBytes(p.total))
	if el := now.Sub(p.start).Seconds(); el > 0 && p.done > p.first {
		rate := float64(p.done-p.first) / el
		s += fmt.Sprintf(", %s/s", formatBytes(uint64(rate)))
		if p.done < p.total {
			eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			s += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
		}
	}
	return s + "  " + p.item
}

// finish leaves a finished bar on its own line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// end ends the operation's progress.
func (p *progress) end() { p.finish() }

// formatBytes writes a byte count for people: 512 B, 1.5 KiB, 20.0 MiB.
func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// isTerminal reports whether w is a terminal, where a bar can be redrawn
// (a character device: a terminal, or /dev/null, where it does no harm).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
