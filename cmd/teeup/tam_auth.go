package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// tamAuthCmds are the `teeup tam` commands of the operator side's gate:
// user, token, audit. The tam group (tam.go) adds them.
func (a *app) tamAuthCmds() []*cobra.Command {
	return []*cobra.Command{a.tamUserCmd(), a.tamTokenCmd(), a.tamAuditCmd()}
}

func (a *app) tamUserCmd() *cobra.Command {
	user := &cobra.Command{
		Use:   "user",
		Short: "Manage the TAM's users (operator role)",
		Args:  noSubcommand,
		RunE:  needSubcommand,
	}
	var conn tamConn
	var roles []string
	var author, passwordFile string
	add := &cobra.Command{
		Use:   "add NAME --role ROLE [--role ROLE]... [--author AUTHOR] [--password-file FILE]",
		Short: "Register a user with its roles",
		Long: `Register a user of the TAM's operator API with one or more roles:
  ta-author, firmware-author   publish as --author (a registered author), inside its prefixes
  operator                     authors, devices, personalization, users, tokens, audit
  viewer                       read status
With --password-file (the first line of FILE, or - for standard input) the user may also log
in to the dashboard. API access takes a token: teeup tam token create --user NAME.`,
		Example: `  teeup tam user add alice --role operator --password-file alice.pw
  teeup tam user add acme-ci --role ta-author --author acme`,
		Args: exactArgs(1, "the user's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required(cmd, "role"); err != nil {
				return err
			}
			req := auth.UserRequest{Name: args[0], Author: author}
			for _, r := range roles {
				req.Roles = append(req.Roles, store.Role(r))
			}
			if passwordFile != "" {
				pw, err := readPassword(a.stdin, passwordFile)
				if err != nil {
					return err
				}
				req.Password = pw
			}
			c, err := conn.client(cmd)
			if err != nil {
				return err
			}
			u, err := c.AddUser(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("user add %s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "user %s: %s\n", u.Name, joinRoles(u.Roles, u.Author))
			return nil
		},
	}
	conn.bind(add)
	add.Flags().StringArrayVar(&roles, "role", nil, "a role: ta-author, firmware-author, operator, viewer (repeat for several)")
	add.Flags().StringVar(&author, "author", "", "the registered author an author role publishes as")
	add.Flags().StringVar(&passwordFile, "password-file", "", "the dashboard password: the first line of this file (- for standard input)")
	user.AddCommand(add)
	return user
}

// readPassword is the first line of file (- for stdin), without its line
// end: a password never comes on the command line, where ps shows it.
func readPassword(stdin io.Reader, file string) (string, error) {
	r := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, auth.MaxPasswordLen+2))
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if len(line) < auth.MinPasswordLen || len(line) > auth.MaxPasswordLen {
		return "", usageError("--password-file: a password of %d to %d bytes on its first line", auth.MinPasswordLen, auth.MaxPasswordLen)
	}
	return line, nil
}

func joinRoles(roles []store.Role, author string) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	out := strings.Join(s, ", ")
	if author != "" {
		out += " (author " + author + ")"
	}
	return out
}

func (a *app) tamTokenCmd() *cobra.Command {
	token := &cobra.Command{
		Use:   "token",
		Short: "Make and revoke API tokens (operator role)",
		Args:  noSubcommand,
		RunE:  needSubcommand,
	}
	var createConn, revokeConn tamConn
	var user string
	var expires time.Duration
	var asJSON bool
	create := &cobra.Command{
		Use:   "create --user NAME [--expires 720h]",
		Short: "Make an API token for a user; it is printed this once",
		Long: `Make an API token for a user. The token is printed this once, on standard output: the TAM
keeps only its hash. Its id (in the second line, on standard error) names it in the audit
trail and for teeup tam token revoke.`,
		Example: `  TEEUP_TOKEN=$(teeup tam token create --user acme-ci --expires 24h)`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "user"); err != nil {
				return err
			}
			if expires <= 0 || expires > auth.MaxTokenLifetime {
				return usageError("%s: --expires: a duration up to %v", where(cmd), auth.MaxTokenLifetime)
			}
			c, err := createConn.client(cmd)
			if err != nil {
				return err
			}
			t, err := c.CreateToken(cmd.Context(), user, expires.String())
			if err != nil {
				return fmt.Errorf("token create: %w", err)
			}
			if asJSON {
				return writeJSON(a.stdout, t)
			}
			fmt.Fprintln(a.stdout, t.Token)
			fmt.Fprintf(a.stderr, "token %s for %s, expires %s; it is not shown again\n", t.ID, t.User, t.Expires.UTC().Format(time.RFC3339))
			return nil
		},
	}
	createConn.bind(create)
	create.Flags().StringVar(&user, "user", "", "the user the token acts as")
	create.Flags().DurationVar(&expires, "expires", auth.DefaultTokenLifetime, "how long the token is good for")
	create.Flags().BoolVar(&asJSON, "json", false, "print the API's answer as JSON")

	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API token by its id",
		Example: `  teeup tam token revoke 3f55024a62f15d81`,
		Args:    exactArgs(1, "the token's id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := revokeConn.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.RevokeToken(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("token revoke %s: %w", args[0], err)
			}
			fmt.Fprintf(a.stdout, "token %s revoked at %s\n", r.ID, r.Revoked.UTC().Format(time.RFC3339))
			return nil
		},
	}
	revokeConn.bind(revoke)
	token.AddCommand(create, revoke)
	return token
}

func (a *app) tamAuditCmd() *cobra.Command {
	var conn tamConn
	var asJSON bool
	var after int64
	cmd := &cobra.Command{
		Use:   "audit [--json] [--after SEQ]",
		Short: "Print the TAM's audit trail (operator role)",
		Long: `Print the TAM's audit trail, oldest first: every state change made through the API or the
dashboard (who, when, what, on what, and the result) and every refused attempt.`,
		Example: `  teeup tam audit
  teeup tam audit --json --after 120`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := conn.client(cmd)
			if err != nil {
				return err
			}
			kept, err := c.AuditAll(cmd.Context(), after, maxAuditRows)
			if err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			if asJSON {
				return writeJSON(a.stdout, auth.AuditPage{Entries: kept})
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SEQ\tTIME\tWHO\tACTION\tTARGET\tRESULT\tDETAIL")
			for _, r := range kept {
				who := r.Principal
				if who == "" {
					who = "-"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.UTC().Format(time.RFC3339), who, r.Action, r.Target, r.Result, r.Detail)
			}
			return w.Flush()
		},
	}
	conn.bind(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the rows as JSON ({\"entries\": [...]})")
	cmd.Flags().Int64Var(&after, "after", 0, "only the rows after this sequence number")
	return cmd
}
