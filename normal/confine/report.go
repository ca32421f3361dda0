package confine

import "strings"

// The measures a Report names.
const (
	Landlock   = "landlock"        // filesystem: the spool and the system's files, read-only
	Scoped     = "landlock_scoped" // no signals to, or abstract sockets of, processes outside
	NoNewPrivs = "no_new_privs"
	Seccomp    = "seccomp"
	User       = "user" // an unprivileged user of its own
)

// Measure is one confinement and whether it is in force.
type Measure struct {
	Name    string `json:"name"`
	InForce bool   `json:"in_force"`
	// Detail says what is enforced, or why it is not.
	Detail string `json:"detail,omitempty"`
}

// Report is what Apply put in force, measure by measure.
type Report struct {
	Measures []Measure `json:"measures"`
}

// Missing names the measures not in force.
func (r *Report) Missing() []string {
	var out []string
	for _, m := range r.Measures {
		if !m.InForce {
			out = append(out, m.Name)
		}
	}
	return out
}

// Complete reports whether every measure a report must hold is there
// and in force.
func (r *Report) Complete() bool {
	for _, name := range []string{Landlock, Scoped, NoNewPrivs, Seccomp, User} {
		found := false
		for _, m := range r.Measures {
			if m.Name == name {
				found = m.InForce
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// String is one line for a log: each measure, and why one is missing.
func (r *Report) String() string {
	var parts []string
	for _, m := range r.Measures {
		s := m.Name
		if !m.InForce {
			s += " NOT in force"
		}
		if m.Detail != "" {
			s += " (" + m.Detail + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (r *Report) add(name string, inForce bool, detail string) {
	r.Measures = append(r.Measures, Measure{Name: name, InForce: inForce, Detail: detail})
}
