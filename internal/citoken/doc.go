// Package citoken fetches a CI job's OIDC token from the platform it runs
// on: the GitHub Actions runtime (ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN) or a GitLab CI id_tokens variable. Both
// `aip token exchange --ci` and the agent SDK (identity/agent) use it.
//
// It never logs a token and never puts one in an error: neither the ID
// token nor the runtime's request token.
package citoken
