package aipcmd

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/revocation"
)

func revokeCommand() *cli.Command {
	var o issuerFlags
	var agent, userID, session, jti, reason string
	var expires time.Duration
	return &cli.Command{
		Name:    "revoke",
		Summary: "revoke an agent, a user, a session or one token (admin)",
		Usage:   "(--agent ID | --user ID | --session ID | --jti JTI) --reason R [--expires DUR]",
		Help: "Records a revocation at the issuer (POST /v1/revocations): new token requests for it\n" +
			"are refused and enforcers drop its live tokens. --expires lets the revocation be\n" +
			"forgotten after DUR (e.g. a jti revocation once its token has expired); the default\n" +
			"is never.",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			fs.StringVar(&agent, "agent", "", "revoke the agent `ID`")
			fs.StringVar(&userID, "user", "", "revoke the user `ID` (all their bindings and tokens)")
			fs.StringVar(&session, "session", "", "revoke the session `ID`")
			fs.StringVar(&jti, "jti", "", "revoke the one AAT with this `JTI`")
			fs.StringVar(&reason, "reason", "", "why (required; recorded and audited)")
			fs.DurationVar(&expires, "expires", 0, "forget the revocation after `DUR` (default never)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			r, err := revocationOf(args, agent, userID, session, jti, reason, expires)
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			got, err := c.Revoke(ctx, r)
			if err != nil {
				return fmt.Errorf("revoke %s %q: %w", r.Kind, r.Subject, err)
			}
			if o.output == "json" {
				return writeJSON(env.Stdout, got)
			}
			fmt.Fprintf(env.Stdout, "revoked %s %s: %s\n", got.Kind, got.Subject, got.Reason)
			return nil
		},
	}
}

// revocationOf checks the flags: exactly one subject and a reason.
func revocationOf(args []string, agent, userID, session, jti, reason string, expires time.Duration) (revocation.Revocation, error) {
	var r revocation.Revocation
	if len(args) != 0 {
		return r, cli.Usagef("no arguments are taken")
	}
	n := 0
	for _, s := range []struct {
		kind revocation.Kind
		v    string
	}{{revocation.KindAgent, agent}, {revocation.KindUser, userID}, {revocation.KindSession, session}, {revocation.KindJTI, jti}} {
		if s.v != "" {
			r.Kind, r.Subject = s.kind, s.v
			n++
		}
	}
	switch {
	case n != 1:
		return r, cli.Usagef("give exactly one of --agent, --user, --session and --jti")
	case reason == "":
		return r, cli.Usagef("--reason is required")
	case expires < 0:
		return r, cli.Usagef("--expires must be positive")
	}
	r.Reason = reason
	if expires > 0 {
		r.ExpiresAt = time.Now().Add(expires).UTC()
	}
	return r, nil
}
