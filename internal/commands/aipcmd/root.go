// Package aipcmd is the command tree of `aip`, the CLI for people: policy
// tooling, audit verification, agents, tokens and revocations.
package aipcmd

import "github.com/aip-project/aip/internal/cli"

// Root returns the `aip` command tree.
func Root() *cli.Command {
	return &cli.Command{
		Name: "aip",
		Help: "aip: identity and zero-trust authorization for AI agents calling MCP tools.",
		Commands: []*cli.Command{
			// Subcommands are added here, one line each; each lives in its own file.
			agentCommand(),
			tokenCommand(),
			revokeCommand(),
			auditCommand(),
			policyCommand(),
			approvalsCommand(),
			loginCommand(),
			bindingsCommand(),
		},
	}
}
