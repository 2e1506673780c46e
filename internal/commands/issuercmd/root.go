// Package issuercmd is the command tree of `aip-issuer`, the token issuer
// and agent registry.
package issuercmd

import "github.com/aip-project/aip/internal/cli"

// Root returns the `aip-issuer` command tree.
func Root() *cli.Command {
	return &cli.Command{
		Name: "aip-issuer",
		Help: "aip-issuer: exchanges agent identities (SPIFFE SVIDs or native keys) and user tokens for Agent Authentication Tokens, and keeps the agent registry.",
		Commands: []*cli.Command{
			// Subcommands are added here, one line each; each lives in its own file.
			serveCommand(),
			validateCommand(),
		},
	}
}
