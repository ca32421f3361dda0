package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionDoc is what teeup version reports.
type versionDoc struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
	GoVersion string `json:"go_version"`
	Cgo       bool   `json:"cgo"`
	// GoTPMTools is the go-tpm-tools version, whose reference TPM
	// simulator writes an emulated device's TPM state: a device made by
	// one version may not open under another.
	GoTPMTools string `json:"go_tpm_tools"`
	GoTPM      string `json:"go_tpm"`
}

func buildVersion() versionDoc {
	doc := versionDoc{Module: "github.com/teeup/teeup", Version: "(unknown)", GoVersion: runtime.Version(), Cgo: cgoEnabled}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return doc
	}
	doc.Module, doc.Version = info.Main.Path, info.Main.Version
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			doc.Revision = s.Value
		case "vcs.time":
			doc.Time = s.Value
		case "vcs.modified":
			doc.Modified = s.Value == "true"
		}
	}
	for _, d := range info.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version + " (replacing " + d.Version + ")"
		}
		switch d.Path {
		case "github.com/google/go-tpm-tools":
			doc.GoTPMTools = v
		case "github.com/google/go-tpm":
			doc.GoTPM = v
		}
	}
	return doc
}

func (a *app) versionCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of teeup, the Go it was built with and the TPM simulator it uses",
		Long: `Print the module version of teeup, the VCS revision it was built from (when the build
recorded one: make build does), the Go version, whether cgo was on, and the versions of
go-tpm-tools and go-tpm: an emulated device's TPM state is written by that simulator.`,
		Example: "  teeup version\n  teeup version --json | jq -r .vcs_revision",
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			doc := buildVersion()
			if asJSON {
				return writeJSON(a.stdout, doc)
			}
			w := a.stdout
			fmt.Fprintf(w, "teeup %s (%s)\n", doc.Version, doc.Module)
			if doc.Revision != "" {
				mod := ""
				if doc.Modified {
					mod = ", with uncommitted changes"
				}
				fmt.Fprintf(w, "revision %s (%s%s)\n", doc.Revision, doc.Time, mod)
			}
			cgo := "with cgo"
			if !doc.Cgo {
				cgo = "without cgo: no TPM simulator"
			}
			fmt.Fprintf(w, "built with %s, %s\n", doc.GoVersion, cgo)
			fmt.Fprintf(w, "TPM simulator: go-tpm-tools %s, go-tpm %s\n", doc.GoTPMTools, doc.GoTPM)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// writeJSON writes v as indented JSON: the only thing a --json command
// puts on standard output.
func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
