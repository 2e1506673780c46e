package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/signer"
)

// Token types of the response (RFC 6749 §7.1, RFC 9449 §5).
const (
	TypeBearer = "Bearer"
	TypeDPoP   = "DPoP"
)

// Auditor records issuances and refusals; *audit.Writer is one.
type Auditor interface {
	Append(rec audit.Record) (audit.Record, error)
}

// Entitlements limits, when configured, the tools a user may delegate.
type Entitlements interface {
	// Tools returns the tools u may delegate; all=true means no limit.
	Tools(ctx context.Context, u *User) (tools []string, all bool, err error)
}

// Config configures an Exchanger. Fields marked required must be set.
type Config struct {
	Issuer      string                 // required: iss of every AAT
	Agents      *AgentVerifier         // required
	Subjects    SubjectVerifier        // required
	Registry    registry.Store         // required
	Revocations revocation.Checker     // required
	Signer      signer.Signer          // required
	Audit       Auditor                // required
	Entitlement Entitlements           // nil: users may delegate every tool
	CI          *CIVerifier            // nil: no ci_trust (jwt subject tokens refused)
	Bindings    BindingLister          // nil: no SSO bindings (binding.go)
	Policies    map[string]string      // audience -> policy_hash
	DefaultTTL  time.Duration          // zero: aat.DefaultLifetime
	MaxTTL      time.Duration          // zero: aat.MaxLifetime
	Logger      *slog.Logger           // nil: discard
	Now         func() time.Time       // nil: time.Now
	NewSession  func() (string, error) // nil: random 128-bit ids
}

// Response is the RFC 8693 §2.2.1 response.
type Response struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
}

// Result is an issued token with what the caller logs and measures.
type Result struct {
	Response Response
	JTI      string
	AgentID  string
	UserID   string
	Method   string
}

// Exchanger runs token exchanges. It is safe for concurrent use.
type Exchanger struct {
	cfg    Config
	minter aat.Minter
}

// NewExchanger checks cfg.
func NewExchanger(cfg Config) (*Exchanger, error) {
	if cfg.Issuer == "" || cfg.Agents == nil || cfg.Subjects == nil || cfg.Registry == nil ||
		cfg.Revocations == nil || cfg.Signer == nil || cfg.Audit == nil {
		return nil, errors.New("token exchanger: issuer, agents, subjects, registry, revocations, signer and audit are required")
	}
	if cfg.MaxTTL <= 0 || cfg.MaxTTL > aat.MaxLifetime {
		cfg.MaxTTL = aat.MaxLifetime
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = aat.DefaultLifetime
	}
	if cfg.DefaultTTL > cfg.MaxTTL {
		return nil, fmt.Errorf("token exchanger: default ttl %s above max %s", cfg.DefaultTTL, cfg.MaxTTL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewSession == nil {
		cfg.NewSession = func() (string, error) { return randomID(nil) }
	}
	return &Exchanger{cfg: cfg, minter: aat.Minter{Signer: cfg.Signer, MaxLifetime: cfg.MaxTTL, Now: cfg.Now}}, nil
}

// state accumulates what the steps learn, for the audit record.
type state struct {
	proven  *Proven
	agent   *registry.Agent
	user    *User
	session string
	note    string // appended to the audit reason (a CI token's policy and digest)
}

// Exchange runs the steps in the AIP order and audits the outcome. A
// refusal is an *oauth.Error.
func (e *Exchanger) Exchange(ctx context.Context, req Request, creds Credentials, requestID string) (*Result, error) {
	var st state
	res, err := e.exchange(ctx, req, creds, &st)
	rec := audit.Record{Decision: audit.Issue, RequestID: requestID, Issuer: e.cfg.Issuer, SessionID: st.session}
	if st.agent != nil {
		rec.AgentID = st.agent.ID
	}
	if st.user != nil {
		rec.UserID = st.user.ID
	}
	if err != nil {
		oe := oauth.As(err)
		rec.Decision, rec.Reason = audit.Refuse, oe.Code+": "+oe.Reason+st.note
		if _, aerr := e.cfg.Audit.Append(rec); aerr != nil {
			e.cfg.Logger.Error("audit refusal", "request_id", requestID, "err", aerr)
		}
		return nil, oe
	}
	rec.AATJTI, rec.Reason = res.JTI, "method="+res.Method+" scope="+res.Response.Scope+st.note
	if len(req.Audience) > 0 {
		rec.PolicyHash = e.cfg.Policies[req.Audience[0]]
	}
	if _, aerr := e.cfg.Audit.Append(rec); aerr != nil {
		// An issuance that cannot be audited is not made (fail closed).
		return nil, oauth.Internal("audit_failed", fmt.Errorf("audit issuance %s: %w", res.JTI, aerr))
	}
	return res, nil
}

func (e *Exchanger) exchange(ctx context.Context, req Request, creds Credentials, st *state) (*Result, error) {
	if req.SubjectTokenType == TokenTypeJWT {
		return e.exchangeCI(ctx, req, creds, st)
	}
	// 1. The agent's identity.
	creds.ActorToken = req.ActorToken
	proven, err := e.cfg.Agents.Verify(ctx, creds)
	switch {
	case errors.Is(err, ErrNoAgentCredential):
		return nil, oauth.AuthError(oauth.InvalidClient, "no_agent_credential", err)
	case errors.Is(err, ErrReplay):
		return nil, oauth.AuthError(oauth.InvalidDPoPProof, "dpop_replay", err)
	case errors.Is(err, ErrAgentCredential) && creds.DPoP != "" && req.ActorToken == "" && len(creds.PeerCertificates) == 0:
		return nil, oauth.AuthError(oauth.InvalidDPoPProof, "bad_dpop_proof", err)
	case errors.Is(err, ErrAgentCredential):
		return nil, oauth.AuthError(oauth.InvalidClient, "bad_agent_credential", err)
	case err != nil:
		return nil, oauth.Unavailable("agent_verification", err)
	}
	st.proven = proven

	// 2. The registry: the agent must be registered and active.
	agent, err := e.lookup(ctx, proven)
	if err != nil {
		return nil, err
	}
	st.agent = agent

	// The user, whose revocation is checked next: from the subject token
	// or the agent's SSO binding.
	subjects := e.cfg.Subjects
	if req.SubjectTokenType == TokenTypeBinding {
		subjects = e.bindings(agent.ID)
	}
	user, err := subjects.VerifySubject(ctx, req.SubjectTokenType, req.SubjectToken)
	switch {
	case errors.Is(err, ErrNoBinding) || errors.Is(err, ErrSeveralBindings):
		return nil, oauth.New(oauth.InvalidGrant, "no_binding", err.Error(), err)
	case errors.Is(err, ErrUnknownIssuer):
		return nil, oauth.AuthError(oauth.InvalidGrant, "unknown_idp", err)
	case errors.Is(err, ErrSubjectToken):
		return nil, oauth.AuthError(oauth.InvalidGrant, "bad_subject_token", err)
	case err != nil:
		return nil, oauth.Unavailable("idp_unavailable", err)
	}
	st.user = user
	st.session = user.SessionID
	if st.session == "" {
		if st.session, err = e.cfg.NewSession(); err != nil {
			return nil, oauth.Internal("session_id", err)
		}
	}

	// 3. Revocations: agent, user, session.
	rev, err := e.cfg.Revocations.Check(ctx, revocation.Subjects{AgentID: agent.ID, UserID: user.ID, SessionID: user.SessionID})
	if err != nil {
		return nil, oauth.Unavailable("revocations_unavailable", err)
	}
	if rev != nil {
		return nil, oauth.AuthError(oauth.InvalidGrant, string(rev.Kind)+"_revoked", rev.Err())
	}

	// 4. This user may bind this agent.
	if !mayBind(agent, user) {
		return nil, oauth.New(oauth.UnauthorizedClient, "user_not_allowed", "this agent may not act for this user", nil)
	}

	// 5. Capabilities: the agent's ∩ requested ∩ the user's entitlement.
	tools, err := e.capabilities(ctx, agent, user, req.Scope)
	if err != nil {
		return nil, err
	}

	// 6. The audience (RFC 8707).
	if len(req.Audience) == 0 {
		return nil, oauth.New(oauth.InvalidTarget, "missing_audience", "audience or resource is required", nil)
	}

	// 7. Sign.
	return e.mint(ctx, req, proven, agent, user, st.session, tools, e.cfg.DefaultTTL)
}

func (e *Exchanger) lookup(ctx context.Context, p *Proven) (*registry.Agent, error) {
	var a *registry.Agent
	var err error
	if p.SPIFFEID != "" {
		a, err = e.cfg.Registry.GetBySPIFFEID(ctx, p.SPIFFEID)
	} else {
		a, err = e.cfg.Registry.GetByThumbprint(ctx, p.JKT)
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return nil, oauth.AuthError(oauth.InvalidClient, "agent_not_registered", err)
	case err != nil:
		return nil, oauth.Unavailable("registry_unavailable", err)
	}
	if a.Status != registry.StatusActive {
		return nil, oauth.New(oauth.UnauthorizedClient, "agent_"+string(a.Status), "agent is not active", nil)
	}
	return a, nil
}

// mayBind: an agent with no allowed users or groups may act for nobody.
func mayBind(a *registry.Agent, u *User) bool {
	if slices.Contains(a.AllowedUsers, u.ID) || (u.Email != "" && slices.Contains(a.AllowedUsers, u.Email)) {
		return true
	}
	for _, g := range u.Groups {
		if slices.Contains(a.AllowedGroups, g) {
			return true
		}
	}
	return false
}

func (e *Exchanger) capabilities(ctx context.Context, a *registry.Agent, u *User, scope []string) ([]string, error) {
	tools := slices.Clone(a.Capabilities)
	if u.Scopes != nil {
		tools = slices.DeleteFunc(tools, func(t string) bool { return !slices.Contains(u.Scopes, t) })
	}
	if scope != nil {
		tools = slices.DeleteFunc(tools, func(t string) bool { return !slices.Contains(scope, t) })
	}
	if e.cfg.Entitlement != nil {
		allowed, all, err := e.cfg.Entitlement.Tools(ctx, u)
		if err != nil {
			return nil, oauth.Unavailable("entitlements_unavailable", err)
		}
		if !all {
			tools = slices.DeleteFunc(tools, func(t string) bool { return !slices.Contains(allowed, t) })
		}
	}
	if len(tools) == 0 {
		return nil, oauth.New(oauth.InvalidScope, "no_capabilities", "no requested tool is granted to this agent for this user", nil)
	}
	return tools, nil
}

func (e *Exchanger) mint(ctx context.Context, req Request, p *Proven, a *registry.Agent, u *User, session string, tools []string, ttl time.Duration) (*Result, error) {
	now := e.cfg.Now()
	if !u.Until.IsZero() {
		ttl = min(ttl, u.Until.Sub(now).Truncate(time.Second))
	}
	actor := a.ID
	if p.SPIFFEID != "" {
		actor = p.SPIFFEID
	}
	c := aat.Claims{
		Issuer:       e.cfg.Issuer,
		Subject:      u.ID,
		Actor:        aat.Actor{Subject: actor},
		Audience:     jwt.Audience(req.Audience),
		IssuedAt:     jwt.NumericDate(now.Unix()),
		NotBefore:    jwt.NumericDate(now.Unix()),
		Expiry:       jwt.NumericDate(now.Add(ttl).Unix()),
		Agent:        aat.Agent{ID: a.ID, SPIFFEID: a.SPIFFEID, PublicKeyThumbprint: a.KeyThumbprint},
		UserBinding:  aat.UserBinding{UserID: u.ID, Issuer: u.Issuer, AuthMethod: u.AuthMethod, Groups: u.Groups},
		Capabilities: aat.Capabilities{Tools: tools},
		SessionID:    session,
		PolicyHash:   e.cfg.Policies[req.Audience[0]],
	}
	if !u.AuthTime.IsZero() {
		c.UserBinding.AuthTime = jwt.NumericDate(u.AuthTime.Unix())
	}
	tokenType := TypeBearer
	if p.X5T != "" || p.JKT != "" {
		c.Confirmation = &aat.Confirmation{X5TS256: p.X5T, JKT: p.JKT}
		if p.JKT != "" {
			tokenType = TypeDPoP
		}
	}
	jti, err := randomID(nil)
	if err != nil {
		return nil, oauth.Internal("jti", err)
	}
	c.ID = jti
	tok, err := e.minter.Mint(ctx, c)
	switch {
	case errors.Is(err, signer.ErrUnavailable):
		return nil, oauth.Unavailable("signer_unavailable", err)
	case err != nil:
		return nil, oauth.Internal("sign_failed", err)
	}
	return &Result{
		Response: Response{
			AccessToken: tok, IssuedTokenType: TokenTypeJWT, TokenType: tokenType,
			ExpiresIn: int64(ttl / time.Second), Scope: strings.Join(tools, " "),
		},
		JTI: jti, AgentID: a.ID, UserID: u.ID, Method: p.Method,
	}, nil
}
