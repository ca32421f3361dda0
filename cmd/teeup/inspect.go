package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/secure/suit"
)

// inspectDoc is what inspect shows, as text or JSON. Nothing in it is
// verified: inspect reads manifests from anyone.
type inspectDoc struct {
	Tagged         bool           `json:"tagged"`
	Size           int            `json:"size"`
	DigestAlg      string         `json:"digest_alg"`
	Digest         string         `json:"digest"`
	DigestMatches  bool           `json:"digest_matches"`
	AuthBlocks     []string       `json:"authentication_blocks"`
	Version        uint64         `json:"manifest_version"`
	SequenceNumber uint64         `json:"sequence_number"`
	ReferenceURI   string         `json:"reference_uri,omitempty"`
	ComponentID    string         `json:"manifest_component_id,omitempty"`
	SetVersion     []int64        `json:"set_version,omitempty"`
	Components     []string       `json:"components"`
	Dependencies   []string       `json:"dependencies,omitempty"`
	Sequences      []sequenceDoc  `json:"sequences"`
	Text           map[string]any `json:"text,omitempty"`
	Integrated     map[string]int `json:"integrated_payloads,omitempty"`
}

type sequenceDoc struct {
	Name     string       `json:"name"`
	Severed  bool         `json:"severed,omitempty"`
	Present  bool         `json:"present"`
	Commands []commandDoc `json:"commands,omitempty"`
}

type commandDoc struct {
	Name         string         `json:"name"`
	Policy       *uint64        `json:"reporting_policy,omitempty"`
	Index        any            `json:"index,omitempty"`
	Params       map[string]any `json:"parameters,omitempty"`
	Alternatives [][]commandDoc `json:"sequences,omitempty"`
}

func (a *app) inspectCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "inspect [--json] ENVELOPE",
		Short: "Show what an envelope says, verifying nothing",
		Long: `Decode ENVELOPE ("-": standard input) and show what it holds: its digest and whether the
manifest matches it, its authentication blocks (not verified: use verify), the sequence
number, the components, every command of every sequence, text and integrated payloads.
Nothing shown is verified: inspect reads manifests from anyone.`,
		Example: "  teeup manifest inspect update.suit\n  teeup manifest inspect --json update.suit | jq .sequence_number",
		Args:    exactArgs(1, "one ENVELOPE"),
		RunE: func(_ *cobra.Command, pos []string) error {
			env, err := a.readEnvelope(pos[0])
			if err != nil {
				return err
			}
			doc, err := describe(env)
			if err != nil {
				return notEnvelope(displayName(pos[0]), err)
			}
			if asJSON {
				return writeJSON(a.stdout, doc)
			}
			printDoc(a.stdout, doc)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func describe(env *suit.Envelope) (*inspectDoc, error) {
	doc := &inspectDoc{Tagged: env.Tagged, Size: len(env.Encode()), Text: map[string]any{}, Integrated: map[string]int{}}
	d, err := env.ManifestDigest()
	if err != nil {
		return nil, err
	}
	doc.DigestAlg, doc.Digest = digestName(d.Alg), hex.EncodeToString(d.Bytes)
	_, derr := env.CheckDigest()
	doc.DigestMatches = derr == nil
	blocks, err := env.AuthBlocks()
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		doc.AuthBlocks = append(doc.AuthBlocks, b.Kind+" "+suit.AlgName(b.Alg))
	}
	m, err := env.ManifestUnverified()
	if err != nil {
		return nil, err
	}
	doc.Version, doc.SequenceNumber, doc.ReferenceURI = m.Version, m.SequenceNumber, m.ReferenceURI
	for _, c := range m.Components {
		doc.Components = append(doc.Components, c.String())
	}
	if m.ComponentID != nil {
		doc.ComponentID = m.ComponentID.String()
	}
	doc.SetVersion = m.SetVersion
	for i, id := range m.IDs() {
		if m.IsDependency(i) {
			doc.Dependencies = append(doc.Dependencies, fmt.Sprintf("%d: %s", i, id))
		}
	}
	if m.Shared != nil {
		doc.Sequences = append(doc.Sequences, sequenceDoc{Name: "shared-sequence", Present: true, Commands: describeSeq(m.Shared)})
	}
	keys := make([]int64, 0, len(m.Members))
	for k := range m.Members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		mem := m.Members[k]
		if k == suit.KeyText {
			if mem.Present() {
				text, err := suit.DecodeText(mem.Bytes)
				if err != nil {
					return nil, err
				}
				for lang, e := range text {
					doc.Text[lang] = describeText(e)
				}
			}
			continue
		}
		doc.Sequences = append(doc.Sequences, sequenceDoc{Name: suit.SequenceName(k), Severed: mem.Digest != nil,
			Present: mem.Present(), Commands: describeSeq(mem.Commands)})
	}
	for k, v := range env.Integrated {
		doc.Integrated[k] = len(v)
	}
	return doc, nil
}

var textNames = map[int64]string{1: "manifest-description", 2: "update-description", 3: "manifest-json-source", 4: "manifest-yaml-source"}
var componentTextNames = map[int64]string{1: "vendor-name", 2: "model-name", 3: "vendor-domain", 4: "model-info", 5: "component-description", 6: "component-version"}

func describeText(e suit.TextEntry) map[string]string {
	out := map[string]string{}
	for k, v := range e.Manifest {
		out[nameOr(textNames, k)] = v
	}
	for _, c := range e.Components {
		for k, v := range c.Text {
			out[c.ID.String()+" "+nameOr(componentTextNames, k)] = v
		}
	}
	return out
}

func nameOr(names map[int64]string, k int64) string {
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprintf("text-%d", k)
}

func describeSeq(seq suit.Sequence) []commandDoc {
	var out []commandDoc
	for _, c := range seq {
		d := commandDoc{Name: suit.CommandName(c.Code)}
		switch {
		case c.Code == suit.DirSetComponentIndex:
			switch {
			case c.Index.All:
				d.Index = true
			case c.Index.List:
				d.Index = c.Index.Indices
			default:
				d.Index = c.Index.Indices[0]
			}
		case c.Code == suit.DirOverrideParameters, c.Code == suit.DirSetParameters:
			d.Params = map[string]any{}
			for k, v := range c.Params {
				d.Params[suit.ParamName(k)] = paramValue(v)
			}
		case c.Code == suit.DirOverrideMultiple:
			d.Params = map[string]any{}
			for _, e := range c.Multiple {
				for k, v := range e.Params {
					d.Params[fmt.Sprintf("[%d] %s", e.Index, suit.ParamName(k))] = paramValue(v)
				}
			}
		case c.Code == suit.DirCopyParams:
			d.Params = map[string]any{}
			for _, e := range c.CopyFrom {
				names := make([]string, len(e.Keys))
				for i, k := range e.Keys {
					names[i] = suit.ParamName(k)
				}
				d.Params[fmt.Sprintf("from [%d]", e.Index)] = strings.Join(names, ",")
			}
		case c.Code == suit.DirTryEach || c.Code == suit.DirRunSequence:
			for _, s := range c.Sequences {
				d.Alternatives = append(d.Alternatives, describeSeq(s))
			}
		case c.Code < 0:
		default:
			p := c.Policy
			d.Policy = &p
		}
		out = append(out, d)
	}
	return out
}

func paramValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return "h'" + hex.EncodeToString(x) + "'"
	case suit.PEN:
		return "pen'" + hex.EncodeToString(x) + "'"
	case suit.Digest:
		return fmt.Sprintf("%s:%x", digestName(x.Alg), x.Bytes)
	case suit.VersionMatch:
		return x.String()
	case suit.WaitInfo:
		return fmt.Sprintf("wait%v", x.Events)
	}
	return v
}

func digestName(alg int64) string {
	switch alg {
	case suit.AlgSHA256:
		return "sha-256"
	case suit.AlgSHA384:
		return "sha-384"
	case suit.AlgSHA512:
		return "sha-512"
	}
	return fmt.Sprintf("alg(%d)", alg)
}

func printDoc(w io.Writer, d *inspectDoc) {
	tag := "untagged"
	if d.Tagged {
		tag = "tagged (107)"
	}
	fmt.Fprintf(w, "envelope: %s, %d bytes\n", tag, d.Size)
	match := "matches the manifest"
	if !d.DigestMatches {
		match = "DOES NOT match the manifest"
	}
	fmt.Fprintf(w, "manifest digest: %s:%s (%s)\n", d.DigestAlg, d.Digest, match)
	if len(d.AuthBlocks) == 0 {
		fmt.Fprintln(w, "authentication blocks: none (unsigned)")
	} else {
		fmt.Fprintf(w, "authentication blocks: %s (not verified here: use verify)\n", strings.Join(d.AuthBlocks, ", "))
	}
	fmt.Fprintf(w, "manifest-version: %d\nsequence-number: %d\n", d.Version, d.SequenceNumber)
	if d.ReferenceURI != "" {
		fmt.Fprintf(w, "reference-uri: %s\n", d.ReferenceURI)
	}
	if d.ComponentID != "" {
		fmt.Fprintf(w, "manifest-component-id: %s\n", d.ComponentID)
	}
	if d.SetVersion != nil {
		fmt.Fprintf(w, "set-version: %v\n", d.SetVersion)
	}
	fmt.Fprintln(w, "components:")
	for i, c := range d.Components {
		fmt.Fprintf(w, "  %d: %s\n", i, c)
	}
	for _, dep := range d.Dependencies {
		fmt.Fprintf(w, "  dependency %s\n", dep)
	}
	for _, s := range d.Sequences {
		state := ""
		switch {
		case s.Severed && s.Present:
			state = " (severed, supplied in the envelope)"
		case s.Severed:
			state = " (severed, not supplied)"
		}
		fmt.Fprintf(w, "%s:%s\n", s.Name, state)
		printCommands(w, s.Commands, "  ")
	}
	for lang, t := range d.Text {
		fmt.Fprintf(w, "text [%s]:\n", lang)
		m, _ := t.(map[string]string)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %q\n", k, m[k])
		}
	}
	for k, n := range d.Integrated {
		fmt.Fprintf(w, "integrated payload %q: %d bytes\n", k, n)
	}
}

func printCommands(w io.Writer, cmds []commandDoc, indent string) {
	for _, c := range cmds {
		switch {
		case c.Index != nil:
			fmt.Fprintf(w, "%s%s %v\n", indent, c.Name, c.Index)
		case c.Params != nil:
			keys := make([]string, 0, len(c.Params))
			for k := range c.Params {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s=%v", k, c.Params[k])
			}
			fmt.Fprintf(w, "%s%s {%s}\n", indent, c.Name, strings.Join(parts, ", "))
		case c.Alternatives != nil:
			fmt.Fprintf(w, "%s%s\n", indent, c.Name)
			for i, alt := range c.Alternatives {
				fmt.Fprintf(w, "%s  sequence %d:\n", indent, i)
				printCommands(w, alt, indent+"    ")
			}
		case c.Policy != nil:
			fmt.Fprintf(w, "%s%s (report %d)\n", indent, c.Name, *c.Policy)
		default:
			fmt.Fprintf(w, "%s%s\n", indent, c.Name)
		}
	}
}
