package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/tam/client"
	"github.com/teeup/teeup/tam/rollout"
)

// tamRolloutCmds are the `teeup tam` commands of the fleet (issue 15):
// group, release, rollout. The tam group (tam.go) adds them; `teeup tam
// device tag` is added to the catalog's device command.
func (a *app) tamRolloutCmds() []*cobra.Command {
	return []*cobra.Command{a.tamGroupCmd(), a.tamReleaseCmd(), a.tamRolloutCmd()}
}

// apiCmd is one operator command that calls the API: call returns what to
// print as JSON with --json, and how to print it otherwise.
func (a *app) apiCmd(use, short, long, example string, args cobra.PositionalArgs,
	call func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error)) *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{Use: use, Short: short, Long: long, Example: example, Args: args,
		RunE: func(cmd *cobra.Command, pos []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			v, show, err := call(cmd, cl, pos)
			if err != nil {
				return tamRefused(where(cmd), err)
			}
			if asJSON {
				return writeJSON(a.stdout, v)
			}
			return show(a.stdout)
		}}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamGroupCmd() *cobra.Command {
	c := &cobra.Command{Use: "group", Short: "Name groups of devices that rollouts go to", Args: noSubcommand, RunE: needSubcommand}
	var members []string
	var sel rollout.SelectorJSON
	create := a.apiCmd("create NAME (--member ID... | [--model M] [--version N] [--tag T])",
		"Make a group: devices by ID, or by attributes",
		`Make a group (operator role): its members by device ID, or a selector that every device
matching all of its fields belongs to: --model (the endorsement's hwmodel, hex), --version (a
sequence number the device last reported running), --tag (one of its tags: teeup tam device
tag). A selector is resolved when a rollout is created: the devices are frozen then.`,
		`  teeup tam group create canaries --member 3f0c... --member 9a41...
  teeup tam group create eu-sensors --tag eu --model 0a0b0c0d0e0f10111213141516171819`,
		exactArgs(1, "the group's NAME"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			req := rollout.GroupRequest{Name: pos[0], Members: members}
			if sel != (rollout.SelectorJSON{}) {
				req.Selector = &sel
			}
			g, err := cl.AddGroup(cmd.Context(), req)
			return g, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "group %s: %d device(s) now\n", g.Name, len(g.Devices))
				return err
			}, err
		})
	create.Flags().StringArrayVar(&members, "member", nil, "a device ID (repeat)")
	create.Flags().StringVar(&sel.Model, "model", "", "devices of this hardware model (hex)")
	create.Flags().StringVar(&sel.Version, "version", "", "devices that last reported running this sequence number")
	create.Flags().StringVar(&sel.Tag, "tag", "", "devices with this tag")
	list := a.apiCmd("list [--json]", "List the groups", "", "", cobra.NoArgs,
		func(cmd *cobra.Command, cl *client.Client, _ []string) (any, func(io.Writer) error, error) {
			gs, err := cl.Groups(cmd.Context())
			return gs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tMEMBERS\tSELECTOR")
				for _, g := range gs {
					fmt.Fprintf(tw, "%s\t%d\t%s\n", g.Name, len(g.Members), selectorText(g.Selector))
				}
				return tw.Flush()
			}, err
		})
	show := a.apiCmd("show NAME [--json]", "Show a group and the devices it holds now", "", "", exactArgs(1, "the group's NAME"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			g, err := cl.Group(cmd.Context(), pos[0])
			return g, func(w io.Writer) error {
				fmt.Fprintf(w, "group %s (%s): %d device(s)\n", g.Name, selectorText(g.Selector), len(g.Devices))
				for _, d := range g.Devices {
					fmt.Fprintln(w, "  "+d)
				}
				return nil
			}, err
		})
	c.AddCommand(create, list, show)
	return c
}

func selectorText(s *rollout.SelectorJSON) string {
	if s == nil {
		return "by name"
	}
	var parts []string
	for _, kv := range [][2]string{{"model", s.Model}, {"version", s.Version}, {"tag", s.Tag}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func (a *app) tamReleaseCmd() *cobra.Command {
	c := &cobra.Command{Use: "release", Short: "Name the sets of held envelopes that rollouts deliver", Args: noSubcommand, RunE: needSubcommand}
	var envelopes []string
	create := a.apiCmd("create NAME --envelope SHA256...", "Make a release of held envelopes",
		`Make a release (operator role): envelopes published with teeup tam publish --hold, by the
SHA-256 digest publish printed. TAs and a secure+normal pair may be in one release; the
TAs go in one TEEP Update, the pair in the next.`,
		`  teeup tam release create v2 --envelope 5e1f... --envelope 0b7d...`,
		exactArgs(1, "the release's NAME"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			if err := required(cmd, "envelope"); err != nil {
				return nil, nil, err
			}
			r, err := cl.AddRelease(cmd.Context(), rollout.ReleaseRequest{Name: pos[0], Envelopes: envelopes})
			return r, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "release %s: %d envelope(s)\n", r.Name, len(r.Envelopes))
				return err
			}, err
		})
	create.Flags().StringArrayVar(&envelopes, "envelope", nil, "a held envelope's SHA-256 (hex; repeat)")
	list := a.apiCmd("list [--json]", "List the releases", "", "", cobra.NoArgs,
		func(cmd *cobra.Command, cl *client.Client, _ []string) (any, func(io.Writer) error, error) {
			rs, err := cl.Releases(cmd.Context())
			return rs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tENVELOPES")
				for _, r := range rs {
					fmt.Fprintf(tw, "%s\t%s\n", r.Name, strings.Join(r.Envelopes, " "))
				}
				return tw.Flush()
			}, err
		})
	c.AddCommand(create, list)
	return c
}

func (a *app) tamRolloutCmd() *cobra.Command {
	c := &cobra.Command{Use: "rollout", Short: "Roll a release out to a group in waves", Args: noSubcommand, RunE: needSubcommand}
	var req rollout.CreateRequest
	create := a.apiCmd("create --group G --release R [--waves W] [--success P] [--error P]",
		"Start a rollout of a release to a group, in waves",
		`Start a rollout (operator role). The group's devices are frozen, by device ID, into waves:
--waves lists each wave's size as a count or a percentage of the group ("10,25%"); the devices
left after them form a last wave. A wave starts when --success percent of the one before
succeeded; --error percent failed in a wave halts the rollout. Only devices whose last
attestation is affirming receive the release, each once.`,
		`  teeup tam rollout create --group all --release v2 --waves 1%,10% --success 95 --error 5`,
		cobra.NoArgs,
		func(cmd *cobra.Command, cl *client.Client, _ []string) (any, func(io.Writer) error, error) {
			if err := required(cmd, "group", "release"); err != nil {
				return nil, nil, err
			}
			r, err := cl.CreateRollout(cmd.Context(), req)
			return r, func(w io.Writer) error {
				fmt.Fprintf(w, "rollout %s: release %s to group %s in waves of %s\n", r.ID, r.Release, r.Group, intsText(r.Waves))
				return nil
			}, err
		})
	create.Flags().StringVar(&req.Group, "group", "", "the group")
	create.Flags().StringVar(&req.Release, "release", "", "the release")
	create.Flags().StringVar(&req.Waves, "waves", "100%", "each wave's size: a count or a percentage, comma-separated")
	create.Flags().IntVar(&req.SuccessThreshold, "success", 90, "percent of a wave succeeded that starts the next")
	create.Flags().IntVar(&req.ErrorThreshold, "error", 10, "percent of a wave failed that halts the rollout")
	list := a.apiCmd("list [--json]", "List the rollouts", "", "", cobra.NoArgs,
		func(cmd *cobra.Command, cl *client.Client, _ []string) (any, func(io.Writer) error, error) {
			rs, err := cl.Rollouts(cmd.Context())
			return rs, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tRELEASE\tGROUP\tSTATE\tWAVE\tREASON")
				for _, r := range rs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\n", r.ID, r.Release, r.Group, r.State, r.Wave+1, len(r.Waves), r.Reason)
				}
				return tw.Flush()
			}, err
		})
	show := a.apiCmd("show ID [--json]", "Show a rollout's progress, per wave", "", "", exactArgs(1, "the rollout's ID"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			p, err := cl.Progress(cmd.Context(), pos[0])
			return p, func(w io.Writer) error { return printProgress(w, p) }, err
		})
	devices := a.apiCmd("devices ID [--json]", "List a rollout's devices and where each is", "", "", exactArgs(1, "the rollout's ID"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			ds, err := cl.Deliveries(cmd.Context(), pos[0])
			return ds, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "WAVE\tDEVICE\tSTATE\tSENDS\tDETAIL")
				for _, d := range ds {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", d.Wave, d.Device, d.State, d.Sends, d.Detail)
				}
				return tw.Flush()
			}, err
		})
	var reason string
	action := func(name, short string, act func(cmd *cobra.Command, cl *client.Client, id string) (rollout.Summary, error)) *cobra.Command {
		return a.apiCmd(name+" ID", short, "", "", exactArgs(1, "the rollout's ID"),
			func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
				r, err := act(cmd, cl, pos[0])
				return r, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "rollout %s: %s\n", r.ID, r.State)
					return err
				}, err
			})
	}
	pause := action("pause", "Pause a running rollout: it sends nothing new", func(cmd *cobra.Command, cl *client.Client, id string) (rollout.Summary, error) {
		return cl.PauseRollout(cmd.Context(), id, reason)
	})
	pause.Flags().StringVar(&reason, "reason", "", "why, for the record")
	resume := action("resume", "Resume a paused rollout", func(cmd *cobra.Command, cl *client.Client, id string) (rollout.Summary, error) {
		return cl.ResumeRollout(cmd.Context(), id)
	})
	cancel := action("cancel", "Cancel a rollout for good", func(cmd *cobra.Command, cl *client.Client, id string) (rollout.Summary, error) {
		return cl.CancelRollout(cmd.Context(), id, reason)
	})
	cancel.Flags().StringVar(&reason, "reason", "", "why, for the record")
	c.AddCommand(create, list, show, devices, pause, resume, cancel)
	return c
}

func printProgress(w io.Writer, p rollout.ProgressJSON) error {
	r := p.Rollout
	fmt.Fprintf(w, "rollout %s: release %s to group %s, %s at wave %d of %d", r.ID, r.Release, r.Group, r.State, r.Wave+1, len(r.Waves))
	if r.Reason != "" {
		fmt.Fprintf(w, " (%s)", r.Reason)
	}
	fmt.Fprintf(w, "; success %d%%, error %d%%\n", r.SuccessThreshold, r.ErrorThreshold)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WAVE\tDEVICES\tPENDING\tSENT\tINSTALLED\tSUCCEEDED\tFAILED\t")
	row := func(name string, c rollout.CountsJSON) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, c.Devices, c.Pending, c.Sent, c.Installed, c.Succeeded, c.Failed)
	}
	for _, c := range p.Waves {
		row(fmt.Sprint(c.Wave+1), c)
	}
	row("all", p.Total)
	return tw.Flush()
}

func intsText(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// tamDeviceTagCmd is `teeup tam device tag ID [TAG...]`.
func (a *app) tamDeviceTagCmd() *cobra.Command {
	var clearTags bool
	c := a.apiCmd("tag ID [TAG...] [--clear]", "Show or set a device's tags",
		`With TAGs, replace the device's tags by them (operator role); with --clear, remove them all;
with neither, print them. Groups select devices by tag (teeup tam group create --tag).`,
		`  teeup tam device tag 3f0c... eu canary`,
		minArgs(1, "the device's ID"),
		func(cmd *cobra.Command, cl *client.Client, pos []string) (any, func(io.Writer) error, error) {
			var tags rollout.TagsJSON
			var err error
			switch {
			case clearTags && len(pos) > 1:
				return nil, nil, usageError("%s: --clear or TAGs, not both", where(cmd))
			case clearTags || len(pos) > 1:
				tags, err = cl.SetTags(cmd.Context(), pos[0], pos[1:])
			default:
				tags, err = cl.Tags(cmd.Context(), pos[0])
			}
			return tags, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "device %s: tags %s\n", pos[0], strings.Join(tags.Tags, " "))
				return err
			}, err
		})
	c.Flags().BoolVar(&clearTags, "clear", false, "remove every tag")
	return c
}
