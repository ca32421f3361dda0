//go:build !linux

package confine

import "runtime"

// Policy is what the confined process keeps.
type Policy struct {
	Spool     string
	UID, GID  int
	NoSeccomp bool
}

// Nobody is the user a normal world started as root becomes.
const Nobody = 65534

// Apply confines nothing outside Linux, and says so measure by measure.
func Apply(Policy) (*Report, error) {
	r := &Report{}
	for _, m := range []string{Landlock, Scoped, User, NoNewPrivs, Seccomp} {
		r.add(m, false, "not available on "+runtime.GOOS)
	}
	return r, nil
}
