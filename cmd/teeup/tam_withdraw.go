package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// tamWithdrawCmd is `teeup tam withdraw COMPONENT`, with list and cancel:
// a TA taken off every device.
func (a *app) tamWithdrawCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "withdraw COMPONENT | list | cancel COMPONENT",
		Short: "Withdraw a TA: every device running it unlinks it, none receives it again",
		Long: `Withdraw a TA (an operator any TA; a TA author only its own, inside its prefixes). The TAM
offers none of its envelopes or its personalization any more, and tells each device whose
tc-list lists it to unlink it (a TEEP Update's unneeded-manifest-list) at its next session.
A firmware component (the secure or normal image) is never withdrawn. 'withdraw list' shows
the withdrawals and the devices still running each TA; 'withdraw cancel' ends one, and the
TA is offered again.`,
		Example: `  teeup tam withdraw TA/acme/hello
  teeup tam withdraw list
  teeup tam withdraw cancel TA/acme/hello`,
		Args: oneTA,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			w, err := cl.Withdraw(cmd.Context(), args[0])
			if err != nil {
				return tamRefused("tam withdraw", err)
			}
			if asJSON {
				return writeJSON(a.stdout, w)
			}
			fmt.Fprintf(a.stdout, "TA %s withdrawn by %s: the devices running it unlink it at their next session\n", w.Component, w.By)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	c.AddCommand(a.tamWithdrawListCmd(), a.tamWithdrawCancelCmd())
	return c
}

func (a *app) tamWithdrawListCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the withdrawn TAs and the devices still running each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			all, err := cl.Withdrawals(cmd.Context())
			if err != nil {
				return tamRefused("tam withdraw list", err)
			}
			if asJSON {
				return writeJSON(a.stdout, all)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TA\tBY\tWHEN\tSTILL RUNNING ON")
			for _, w := range all {
				running := "no device"
				if w.RunningCount > 0 {
					running = fmt.Sprintf("%d: %s", w.RunningCount, strings.Join(shortIDs(w.Running, w.RunningCount, 5), " "))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.Component, w.By, w.Created.UTC().Format(time.RFC3339), running)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

func (a *app) tamWithdrawCancelCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	c := &cobra.Command{
		Use:   "cancel COMPONENT",
		Short: "End a TA's withdrawal: the TA is offered to devices again",
		Args:  oneTA,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := conn.client(cmd)
			if err != nil {
				return err
			}
			w, err := cl.CancelWithdrawal(cmd.Context(), args[0])
			if err != nil {
				return tamRefused("tam withdraw cancel", err)
			}
			if asJSON {
				return writeJSON(a.stdout, w)
			}
			fmt.Fprintf(a.stdout, "withdrawal of TA %s (by %s) ended: the TA is offered again\n", w.Component, w.By)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	conn.bind(c)
	return c
}

// oneTA takes the one TA a withdrawal command names.
func oneTA(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError("%s: which TA? (TA/AUTHOR/NAME)", where(cmd))
	}
	return nil
}

// shortIDs is the first n of ids, each its first 12 characters, and
// "..." when there are more than n of all.
func shortIDs(ids []string, all, n int) []string {
	var out []string
	for _, id := range ids[:min(n, len(ids))] {
		out = append(out, id[:min(12, len(id))])
	}
	if all > len(out) {
		out = append(out, "...")
	}
	return out
}
