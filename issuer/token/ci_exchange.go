package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
)

// exchangeCI runs a CI/CD job's exchange: subject_token_type jwt, the
// subject token an OIDC token of a ci_trust issuer. The job has no SVID
// and no registered key: the matching policy names the agent, and the
// job proves possession of a key it generated with a DPoP proof, which
// becomes cnf.jkt. The AAT's sub is the CI token's sub; act.sub is the
// agent; capabilities are the policy's ∩ the agent's ∩ the requested
// scope; it expires by the policy's ttl and never after the CI token.
// Each CI token is exchanged once.
func (e *Exchanger) exchangeCI(ctx context.Context, req Request, creds Credentials, st *state) (*Result, error) {
	if e.cfg.CI == nil {
		return nil, oauth.AuthError(oauth.InvalidGrant, "unknown_ci_issuer", fmt.Errorf("%w: no ci_trust configured", ErrUnknownIssuer))
	}
	// 1. The job's key: a DPoP proof, the only credential of a CI exchange.
	if req.ActorToken != "" || len(creds.PeerCertificates) > 0 {
		return nil, oauth.New(oauth.InvalidRequest, "ci_credentials",
			"a CI token exchange takes a DPoP proof of the job's key, not an actor token or client certificate", nil)
	}
	if creds.DPoP == "" {
		return nil, oauth.New(oauth.InvalidDPoPProof, "missing_dpop", "a CI token exchange needs a DPoP proof of the job's key", nil)
	}
	proven, err := e.cfg.Agents.verifyDPoP(ctx, creds)
	switch {
	case errors.Is(err, ErrReplay):
		return nil, oauth.AuthError(oauth.InvalidDPoPProof, "dpop_replay", err)
	case errors.Is(err, ErrAgentCredential):
		return nil, oauth.AuthError(oauth.InvalidDPoPProof, "bad_dpop_proof", err)
	case err != nil:
		return nil, oauth.Unavailable("agent_verification", err)
	}
	proven.Method = MethodCI
	st.proven = proven

	// 2. The CI token and the policy it matches.
	ct, err := e.cfg.CI.Verify(ctx, req.SubjectToken)
	if ct != nil {
		st.note = " ci_iss=" + ct.Issuer + " ci_token_sha256=" + ct.Digest
		if ct.Policy != nil {
			st.note += " ci_policy=" + ct.Policy.Name
		}
		st.user = &User{ID: ct.Subject, Issuer: ct.Issuer, AuthMethod: AuthMethodCI}
	}
	switch {
	case errors.Is(err, ErrUnknownIssuer):
		return nil, oauth.AuthError(oauth.InvalidGrant, "unknown_ci_issuer", err)
	case errors.Is(err, ErrSubjectToken):
		return nil, oauth.AuthError(oauth.InvalidGrant, "bad_ci_token", err)
	case errors.Is(err, ErrNoCIPolicy):
		return nil, oauth.New(oauth.InvalidGrant, "no_ci_policy",
			"no ci_trust policy accepts this CI token's audience and claims", err)
	case err != nil:
		return nil, oauth.Unavailable("ci_issuer_unavailable", err)
	}
	p := ct.Policy

	// 3. The registry: the policy's agent must be registered and active.
	agent, err := e.cfg.Registry.Get(ctx, p.Agent)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return nil, oauth.New(oauth.UnauthorizedClient, "ci_agent_not_registered",
			"the agent of the matching ci_trust policy is not registered", err)
	case err != nil:
		return nil, oauth.Unavailable("registry_unavailable", err)
	}
	if agent.Status != registry.StatusActive {
		return nil, oauth.New(oauth.UnauthorizedClient, "agent_"+string(agent.Status), "agent is not active", nil)
	}
	st.agent = agent
	if st.session, err = e.cfg.NewSession(); err != nil {
		return nil, oauth.Internal("session_id", err)
	}

	// 4. Revocations: the agent, and the CI subject as a user.
	rev, err := e.cfg.Revocations.Check(ctx, revocation.Subjects{AgentID: agent.ID, UserID: ct.Subject})
	if err != nil {
		return nil, oauth.Unavailable("revocations_unavailable", err)
	}
	if rev != nil {
		return nil, oauth.AuthError(oauth.InvalidGrant, string(rev.Kind)+"_revoked", rev.Err())
	}

	// 5. Capabilities: the policy's ∩ the agent's ∩ requested.
	tools := slices.DeleteFunc(slices.Clone(p.Tools), func(t string) bool {
		return !slices.Contains(agent.Capabilities, t) || (req.Scope != nil && !slices.Contains(req.Scope, t))
	})
	if len(tools) == 0 {
		return nil, oauth.New(oauth.InvalidScope, "no_capabilities", "no requested tool is granted to this agent by the ci_trust policy", nil)
	}

	// 6. The audience (RFC 8707).
	if len(req.Audience) == 0 {
		return nil, oauth.New(oauth.InvalidTarget, "missing_audience", "audience or resource is required", nil)
	}

	// 7. The lifetime: the policy's, never past the CI token's expiry.
	ttl := min(p.TTL, e.cfg.MaxTTL, ct.Expiry.Sub(e.cfg.Now())).Truncate(time.Second)
	if ttl < time.Second {
		return nil, oauth.AuthError(oauth.InvalidGrant, "bad_ci_token", fmt.Errorf("%w: expires within a second", ErrSubjectToken))
	}

	// 8. Once: the token is recorded as exchanged, then the AAT signed.
	switch err := e.cfg.CI.Redeem(ctx, ct); {
	case errors.Is(err, ErrCIReplay):
		return nil, oauth.New(oauth.InvalidGrant, "ci_token_replayed",
			"this CI token was already exchanged: each CI token is exchanged once, request a new one", err)
	case err != nil:
		return nil, oauth.Unavailable("replay_store_unavailable", err)
	}
	return e.mint(ctx, req, proven, agent, st.user, st.session, tools, ttl)
}
