package main

import "github.com/spf13/cobra"

// tamCmd is the TAM's group: the server (teeup tam serve) and the
// operator commands that call its API.
func (a *app) tamCmd() *cobra.Command {
	tam := &cobra.Command{
		Use:   "tam",
		Short: "The Trusted Application Manager: run it, and manage it through its API",
		Long: `teeup tam runs a Trusted Application Manager (TEEP, RFC 9397) and manages it through its
operator API. Operator commands take --tam URL and --token T (or TEEUP_TAM, TEEUP_TOKEN), and
--tam-ca PEM to trust the TAM's self-signed certificate.`,
		Args: noSubcommand,
		RunE: needSubcommand,
	}
	tam.AddCommand(a.tamServeCmd(), a.tamKeyCmd())
	tam.AddCommand(a.tamAuthCmds()...)
	tam.AddCommand(a.tamCatalogCmds()...)
	tam.AddCommand(a.tamRolloutCmds()...)
	tam.AddCommand(a.tamWithdrawCmd())
	return tam
}
