// Package agent is the SDK for agent authors: a Transport (an
// http.RoundTripper) that obtains Agent Authentication Tokens from an aip
// issuer (RFC 8693 token exchange at POST /v1/token), caches them, renews
// them before they expire, and adds to every request the AAT and a fresh
// DPoP proof (RFC 9449) bound to the method, URL, token (ath) and body
// (aip_bh). It plugs into the MCP Go SDK:
//
//	t, err := agent.New(agent.Config{...})
//	transport := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: t.Client()}
//
// The agent proves who it is with its native key (registered in the
// issuer), a JWT-SVID (actor_token) or an X509-SVID (mTLS) from the SPIFFE
// Workload API; the user it acts for is named by an OIDC ID token, by an
// SSO binding (the person who bound the agent: no user token at all) or,
// on a single machine, the local user. A CI/CD job instead exchanges its
// platform's OIDC token (CIToken: GitHubActionsToken, GitLabToken), with a
// DPoP key and no agent credential.
//
// It never logs a token, a proof or a key: it logs AAT jtis and key
// thumbprints.
package agent
