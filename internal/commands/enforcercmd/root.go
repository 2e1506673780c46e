// Package enforcercmd is the command tree of `aip-enforcer`, the policy
// enforcement point in front of MCP servers.
package enforcercmd

import "github.com/aip-project/aip/internal/cli"

// Root returns the `aip-enforcer` command tree.
func Root() *cli.Command {
	return &cli.Command{
		Name: "aip-enforcer",
		Help: "aip-enforcer: enforces AgentPolicy, token checks, DLP and audit on every MCP call, over stdio or as an mTLS sidecar.",
		Commands: []*cli.Command{
			// Subcommands are added here, one line each; each lives in its own file.
			stdioCommand(),
			serveCommand(),
			validateCommand(),
		},
	}
}
