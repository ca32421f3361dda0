package suit

import (
	"fmt"
	"strings"
)

// Record is one command applied to one component, in the order run. It is
// what a reporting engine receives (draft-37 §8.4.7): the policy, the
// result and the parameters the command consumed.
type Record struct {
	Sequence string // top-level sequence being run
	// Section is the manifest key of that sequence (KeyCommon for the
	// shared sequence) and Offset the command's byte offset in it: where
	// a report says the command is (suit-record-manifest-section and
	// suit-record-section-offset).
	Section   int64
	Offset    int
	Depth     int // nesting in try-each / run-sequence
	Command   string
	Component int // -1 for commands that apply to no component
	// Manifest numbers the manifest that holds the command, in the order
	// the run met them: 0 is the root, and Result.ManifestPath and
	// Result.ComponentID resolve it.
	Manifest int
	Policy   uint64 // reporting policy, 0 when the command has none
	Detail   string // what the command consumed or chose
	Err      error  // nil on success
	// Properties holds, only when the reporting policy asks for a record
	// or system information for this outcome, what the command found on
	// the device: on success the parameters it consumed (they describe
	// the device, since it matched) and what it measured; on failure what
	// it measured (the actual values, the reason).
	Properties Parameters
}

// wantsProperties reports whether the policy asks for anything about
// this outcome.
func (r Record) wantsProperties() bool {
	if r.Err == nil {
		return r.Policy&(ReportRecordOnSuccess|ReportSysinfoOnSuccess) != 0
	}
	return r.Policy&(ReportRecordOnFailure|ReportSysinfoOnFailure) != 0
}

// SysinfoReported reports whether the policy asks for the system
// information of this outcome (send-sysinfo-success/-failure).
func (r Record) SysinfoReported() bool {
	if r.Err == nil {
		return r.Policy&ReportSysinfoOnSuccess != 0
	}
	return r.Policy&ReportSysinfoOnFailure != 0
}

// Reported reports whether the record's reporting policy asks for it to
// go into a report: on success with send-record-on-success, on failure
// with send-record-on-failure (draft-37 §8.4.7).
func (r Record) Reported() bool {
	if r.Err == nil {
		return r.Policy&ReportRecordOnSuccess != 0
	}
	return r.Policy&ReportRecordOnFailure != 0
}

// String renders a record as one trace line.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s: %s", strings.Repeat("  ", r.Depth), r.Sequence, r.Command)
	if r.Component >= 0 {
		fmt.Fprintf(&b, " [%d]", r.Component)
	}
	if r.Detail != "" {
		b.WriteString(" " + r.Detail)
	}
	if r.Err != nil {
		fmt.Fprintf(&b, ": FAIL (%v)", r.Err)
	} else {
		b.WriteString(": ok")
	}
	return b.String()
}

// Result is the outcome of a processing run.
type Result struct {
	// manifests describes each manifest of the run (the root first) for
	// reports, which name components and dependency paths.
	manifests      []manifestInfo
	manifestsRoot  [1]manifestInfo // backs manifests for a run without dependencies
	SequenceNumber uint64
	// Records is the full trace.
	Records []Record
	// Ran lists the top-level sequences run, in order.
	Ran []string
	// Skipped lists severed sequences that were not supplied.
	Skipped []string
	// Invoked lists the component indices invoked, each in the manifest
	// (root or dependency) that invoked it.
	Invoked []int
}

// Trace renders every record, one per line.
func (r *Result) Trace() string {
	var b strings.Builder
	for _, rec := range r.Records {
		b.WriteString(rec.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// manifestInfo is what a report needs about one manifest of a run.
type manifestInfo struct {
	path       []uint64      // dependency indices from the root; nil for the root
	components []ComponentID // by component index, dependencies included
}

// ManifestPath returns the walk of dependency component indices from the
// root to manifest i of the run (suit-record-manifest-id): empty for the
// root.
func (r *Result) ManifestPath(i int) []uint64 {
	if i <= 0 || i >= len(r.manifests) {
		return []uint64{}
	}
	return r.manifests[i].path
}

// ComponentID returns the identifier of component index c of manifest i
// of the run, nil if there is none.
func (r *Result) ComponentID(i, c int) ComponentID {
	if i < 0 || i >= len(r.manifests) || c < 0 || c >= len(r.manifests[i].components) {
		return nil
	}
	return r.manifests[i].components[c]
}
