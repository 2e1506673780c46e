package aipcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/registry"
)

func agentCommand() *cli.Command {
	return &cli.Command{
		Name:    "agent",
		Summary: "generate agent keys; register, list and manage agents; fetch and verify AIDs",
		Help: "Agent commands. Those that call the issuer take --issuer URL (default $AIP_ISSUER,\n" +
			"else " + defaultIssuerURL + "); the admin ones authenticate with --admin-token-file\n" +
			"(an administrator's OIDC ID token), an mTLS client certificate (--cert, --cert-key),\n" +
			"or, on the issuer's machine, by your uid over its admin socket (--admin-socket PATH,\n" +
			"default $AIP_ADMIN_SOCKET).",
		Commands: []*cli.Command{
			agentKeygenCommand(),
			agentRegisterCommand(),
			agentListCommand(),
			agentShowCommand(),
			agentStatusCommand(issuerclient.ActionSuspend, "suspend an agent: its token requests are refused until reactivated"),
			agentStatusCommand(issuerclient.ActionReactivate, "reactivate a suspended agent"),
			agentStatusCommand(issuerclient.ActionRevoke, "revoke an agent for good, and its live tokens"),
			agentAIDCommand(),
			agentVerifyAIDCommand(),
		},
	}
}

// stringList is a repeatable flag; each value may also be comma-separated.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func agentRegisterCommand() *cli.Command {
	var o issuerFlags
	var a registry.Agent
	var keyPath string
	var caps, users, groups stringList
	return &cli.Command{
		Name: "register", Summary: "register an agent (admin)",
		Usage: "--id ID [--name N] [--owner O] (--key FILE | --spiffe-id ID) [--capability TOOL]... [--allow-user U]... [--allow-group G]...",
		Help: "Registers an agent with its native public key (--key: a .pub file, a private key file\n" +
			"of which only the public part is sent, or a JWK) and/or its SPIFFE ID. An agent\n" +
			"may act only for the users and groups allowed here, with at most its capabilities.",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			fs.StringVar(&a.ID, "id", "", "agent `ID` (required)")
			fs.StringVar(&a.Name, "name", "", "display `NAME`")
			fs.StringVar(&a.Owner, "owner", "", "`OWNER` (a person or team)")
			fs.StringVar(&a.SPIFFEID, "spiffe-id", "", "the agent's SPIFFE `ID`")
			fs.StringVar(&keyPath, "key", "", "agent key `FILE` (public, private or JWK: only the public key is sent)")
			fs.Var(&caps, "capability", "a `TOOL` the agent may call (repeat or comma-separate)")
			fs.Var(&users, "allow-user", "a `USER` the agent may act for (repeatable)")
			fs.Var(&groups, "allow-group", "a `GROUP` whose members the agent may act for (repeatable)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 || a.ID == "" {
				return cli.Usagef("--id is required and no arguments are taken")
			}
			if keyPath == "" && a.SPIFFEID == "" {
				return cli.Usagef("--key or --spiffe-id is required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			if keyPath != "" {
				if a.PublicKey, err = loadPublicKey(keyPath); err != nil {
					return err
				}
			}
			a.Capabilities, a.AllowedUsers, a.AllowedGroups = caps, users, groups
			if a.Capabilities == nil {
				a.Capabilities = []string{}
			}
			created, err := c.CreateAgent(ctx, a)
			if err != nil {
				return fmt.Errorf("register agent %q: %w", a.ID, err)
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, created)
			}
			fmt.Fprintf(env.Stdout, "registered agent %s (%s)\n", created.ID, created.Status)
			return writeAgent(env.Stdout, created)
		},
	}
}

func agentListCommand() *cli.Command {
	var o issuerFlags
	return &cli.Command{
		Name: "list", Summary: "list registered agents (admin)", Usage: "[--output table|json]",
		Flags: func(fs *flag.FlagSet) { o.declare(fs, true) },
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("no arguments are taken")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			agents, err := c.ListAgents(ctx)
			if err != nil {
				return fmt.Errorf("list agents: %w", err)
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, map[string]any{"agents": agents})
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AGENT\tSTATUS\tNAME\tOWNER\tIDENTITY\tCAPABILITIES")
			for _, a := range agents {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, dash(a.Name), dash(a.Owner),
					identityOf(&a), dash(strings.Join(a.Capabilities, ",")))
			}
			return tw.Flush()
		},
	}
}

func agentShowCommand() *cli.Command {
	var o issuerFlags
	return &cli.Command{
		Name: "show", Summary: "show one agent (admin)", Usage: "[--output table|json] ID",
		Flags: func(fs *flag.FlagSet) { o.declare(fs, true) },
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one agent ID")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			a, err := c.GetAgent(ctx, args[0])
			if err != nil {
				return fmt.Errorf("show agent %q: %w", args[0], err)
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, a)
			}
			return writeAgent(env.Stdout, a)
		},
	}
}

func agentStatusCommand(action, summary string) *cli.Command {
	var o issuerFlags
	var reason string
	return &cli.Command{
		Name: action, Summary: summary + " (admin)", Usage: "[flags] ID",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			if action == issuerclient.ActionRevoke {
				fs.StringVar(&reason, "reason", "", "`REASON` recorded with the agent revocation")
			}
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one agent ID")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			a, err := c.SetStatus(ctx, args[0], action)
			if err != nil {
				return fmt.Errorf("%s agent %q: %w", action, args[0], err)
			}
			if reason != "" {
				r := revocation.Revocation{Kind: revocation.KindAgent, Subject: a.ID, Reason: reason}
				if _, err := c.Revoke(ctx, r); err != nil {
					return fmt.Errorf("agent %q is revoked, but recording the reason failed: %w", a.ID, err)
				}
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, a)
			}
			fmt.Fprintf(env.Stdout, "agent %s: %s\n", a.ID, a.Status)
			return nil
		},
	}
}

// writeAgent prints a as "key: value" lines.
func writeAgent(w io.Writer, a *registry.Agent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	rows := [][2]string{
		{"agent_id", a.ID}, {"status", string(a.Status)}, {"name", a.Name}, {"owner", a.Owner},
		{"spiffe_id", a.SPIFFEID}, {"key_thumbprint", a.KeyThumbprint},
		{"capabilities", strings.Join(a.Capabilities, ", ")},
		{"allowed_users", strings.Join(a.AllowedUsers, ", ")},
		{"allowed_groups", strings.Join(a.AllowedGroups, ", ")},
		{"created_at", a.CreatedAt.Format("2006-01-02T15:04:05Z07:00")},
		{"updated_at", a.UpdatedAt.Format("2006-01-02T15:04:05Z07:00")},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], dash(r[1]))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write agent: %w", err)
	}
	return nil
}

// identityOf is an agent's SPIFFE ID and/or key thumbprint.
func identityOf(a *registry.Agent) string {
	var ids []string
	if a.SPIFFEID != "" {
		ids = append(ids, a.SPIFFEID)
	}
	if a.KeyThumbprint != "" {
		ids = append(ids, "jkt:"+a.KeyThumbprint)
	}
	return dash(strings.Join(ids, " "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
