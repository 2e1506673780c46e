package aipcmd

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/issuer/binding"
)

func bindingsCommand() *cli.Command {
	return &cli.Command{
		Name:     "bindings",
		Summary:  "list and revoke the SSO bindings of people to agents (admin)",
		Commands: []*cli.Command{bindingsListCommand(), bindingsRevokeCommand()},
	}
}

// mineFlags are --mine and --login-token-file: act as the person signed
// in by `aip login`, on their own bindings.
type mineFlags struct {
	mine      bool
	tokenFile string
}

func (m *mineFlags) declare(fs *flag.FlagSet) {
	fs.BoolVar(&m.mine, "mine", false, "your own bindings, with the token of `aip login` (no admin right needed)")
	fs.StringVar(&m.tokenFile, "login-token-file", "", "the token `FILE` of `aip login` (default $XDG_CONFIG_HOME/aip/login.json)")
}

func (m *mineFlags) token() (string, error) {
	tok, err := readLogin(m.tokenFile, time.Now())
	if err != nil {
		return "", fmt.Errorf("--mine: %w", err)
	}
	return tok, nil
}

func bindingsListCommand() *cli.Command {
	var o issuerFlags
	var m mineFlags
	var user, agent string
	return &cli.Command{
		Name:    "list",
		Summary: "list the active bindings",
		Usage:   "[--user ID] [--agent ID] | --mine",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			m.declare(fs)
			fs.StringVar(&user, "user", "", "only the bindings of the user `ID` (the IdP's user id)")
			fs.StringVar(&agent, "agent", "", "only the bindings of the agent `ID`")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("no arguments are taken")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var bs []binding.Binding
			if m.mine {
				if user != "" || agent != "" {
					return cli.Usagef("--mine lists all your bindings: drop --user and --agent")
				}
				tok, terr := m.token()
				if terr != nil {
					return terr
				}
				bs, err = c.OwnBindings(ctx, tok)
			} else {
				bs, err = c.ListBindings(ctx, binding.Filter{User: user, Agent: agent})
			}
			if err != nil {
				return fmt.Errorf("list bindings: %w", err)
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, bs)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tEMAIL\tAGENT\tSCOPES\tEXPIRES")
			for _, b := range bs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.User, dash(b.Email), b.Agent, strings.Join(b.Scopes, ","), b.Expiry.Local().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
}

func bindingsRevokeCommand() *cli.Command {
	var o issuerFlags
	var m mineFlags
	var user string
	return &cli.Command{
		Name:    "revoke",
		Summary: "end one binding, or every binding of a user",
		Usage:   "ID | --user ID | --mine ID",
		Help: "Ends a binding at once: its agent gets no more tokens for that person. --user ends all of a\n" +
			"user's bindings together; `aip revoke --user` (offboarding) does that too, and also refuses\n" +
			"the user's own tokens.",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			m.declare(fs)
			fs.StringVar(&user, "user", "", "end every binding of the user `ID` (the USER column of `aip bindings list`: the IdP's user id, not the email)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if (len(args) == 1) == (user != "") || len(args) > 1 {
				return cli.Usagef("give one binding ID or --user")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var bs []binding.Binding
			switch {
			case m.mine:
				if user != "" {
					return cli.Usagef("--mine ends one of your bindings: give its ID, not --user")
				}
				tok, err := m.token()
				if err != nil {
					return err
				}
				b, err := c.RevokeOwnBinding(ctx, tok, args[0])
				if err != nil {
					return fmt.Errorf("revoke binding %q: %w", args[0], err)
				}
				bs = []binding.Binding{*b}
			case user != "":
				if bs, err = c.RevokeUserBindings(ctx, user); err != nil {
					return fmt.Errorf("revoke the bindings of %q: %w", user, err)
				}
			default:
				b, err := c.RevokeBinding(ctx, args[0])
				if err != nil {
					return fmt.Errorf("revoke binding %q: %w", args[0], err)
				}
				bs = []binding.Binding{*b}
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, bs)
			}
			for _, b := range bs {
				fmt.Fprintf(env.Stdout, "revoked binding %s (%s -> %s)\n", b.ID, display(b), b.Agent)
			}
			if len(bs) == 0 {
				fmt.Fprintln(env.Stdout, "no active binding")
			}
			return nil
		},
	}
}

func display(b binding.Binding) string {
	if b.Email != "" {
		return b.Email
	}
	return b.User
}
