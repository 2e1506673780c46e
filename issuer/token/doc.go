// Package token is the issuer's RFC 8693 token exchange: it parses a token
// request, authenticates the agent (JWT-SVID actor token, mTLS X509-SVID or
// DPoP proof with a registered key), verifies the user's ID token against
// the trusted identity providers, and, in the AIP order — agent, registry,
// revocations, binding, capabilities, audience — mints an AAT.
//
// A CI/CD job's OIDC token (subject_token_type jwt: GitHub Actions, GitLab
// CI, any OIDC issuer) is verified against ci_trust policies instead
// (ci.go): the matching policy names the agent, a DPoP proof of the job's
// own key binds the AAT, and each CI token is exchanged once.
//
// Every issuance and refusal is audited. It never logs or audits a token,
// proof or key: it records jtis, agent ids, user ids and reasons.
package token
