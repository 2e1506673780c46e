package agent

import (
	"context"
	"net/http"

	"github.com/aip-project/aip/internal/citoken"
)

// DefaultGitLabTokenEnv is the variable GitLabToken reads when given no
// name: the one `aip token exchange --ci gitlab` reads too.
const DefaultGitLabTokenEnv = citoken.DefaultGitLabEnv

// GitHubActionsToken returns a Config.CIToken that asks the GitHub
// Actions runtime for a new OIDC token of the job on each call
// (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; the
// job needs `permissions: id-token: write`). audience is the aud the
// issuer's ci_trust policy expects, often the issuer URL. client calls
// the runtime; nil means a client with a 10-second timeout.
func GitHubActionsToken(audience string, client *http.Client) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		return citoken.GitHub(ctx, client, audience)
	}
}

// GitLabToken returns a Config.CIToken that reads the job's ID token from
// the environment variable name (DefaultGitLabTokenEnv when empty), one
// the job's id_tokens: declares with the issuer's ci_trust audience.
// GitLab makes that token once per job and the issuer exchanges it once:
// the first AAT is the only one, so renewing it fails with the issuer's
// "already exchanged" refusal; give the policy a ttl as long as the job.
func GitLabToken(name string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		return citoken.GitLab(name)
	}
}
