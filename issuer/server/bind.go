package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
)

// Bind flow routes and cookies.
const (
	bindPath      = "/bind"
	bindCallback  = "/bind/callback"
	bindConsent   = "/bind/consent"
	flowCookie    = "aip_bind_flow"
	consentCookie = "aip_bind_consent"
	flowTTL       = 10 * time.Minute // login at the IdP, then the consent page
)

// SSO configures the bind flow: a person logs in at Provider through the
// issuer's own OAuth client, then binds an agent to themselves.
type SSO struct {
	// Provider is the identity provider (its issuer URL and claim names;
	// its Audience is not used: ID tokens here are issued to ClientID).
	Provider                            token.IdentityProvider
	ClientID, ClientSecret, RedirectURL string
	Scopes                              []string
	// DefaultTTL is preselected on the consent page; MaxTTL bounds it.
	DefaultTTL, MaxTTL time.Duration
	// StateKey seals the flow's cookies; nil: a random key (one replica).
	StateKey []byte
	// HTTPClient reaches the IdP; nil: a client with a 10s timeout.
	HTTPClient *http.Client
}

// bindFlow is the bind flow's runtime state.
type bindFlow struct {
	cfg  SSO
	seal *sealer

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newBindFlow(cfg SSO, secure bool) (*bindFlow, error) {
	if cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.Provider.IssuerURL == "" || cfg.MaxTTL <= 0 {
		return nil, errors.New("sso: provider, client id, redirect url and max ttl are required")
	}
	if cfg.DefaultTTL <= 0 || cfg.DefaultTTL > cfg.MaxTTL {
		cfg.DefaultTTL = cfg.MaxTTL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	seal, err := newSealer(cfg.StateKey, secure)
	if err != nil {
		return nil, err
	}
	return &bindFlow{cfg: cfg, seal: seal}, nil
}

// client discovers the IdP on first use (and again after a failure).
func (f *bindFlow) client(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.oauth != nil {
		return f.oauth, f.verifier, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, f.cfg.HTTPClient), f.cfg.Provider.IssuerURL)
	if err != nil {
		return nil, nil, fmt.Errorf("discover %s: %w", f.cfg.Provider.IssuerURL, err)
	}
	f.oauth = &oauth2.Config{ClientID: f.cfg.ClientID, ClientSecret: f.cfg.ClientSecret, RedirectURL: f.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: f.cfg.Scopes}
	f.verifier = p.VerifierContext(oidc.ClientContext(context.Background(), f.cfg.HTTPClient), &oidc.Config{ClientID: f.cfg.ClientID})
	return f.oauth, f.verifier, nil
}

// flowState is sealed in flowCookie between /bind and the callback.
type flowState struct {
	State, Nonce, Verifier, Agent string
}

// consentState is sealed in consentCookie between the callback and the
// consent POST; CSRF is also in the form.
type consentState struct {
	User, Email, Issuer string
	Groups              []string
	AuthTime            int64
	Agent, CSRF         string
}

func (s *Server) bindRoutes(e *echo.Echo) {
	g := e.Group(bindPath, bindHeaders)
	g.GET("", s.bindStart)
	g.GET("/callback", s.bindCallback)
	g.POST("/consent", s.bindConsent)
	g.GET("/style.css", bindStyle)
}

// bindStart is GET /bind?agent=ID: it sends the person to the IdP with an
// authorization code request (PKCE S256, state, nonce).
func (s *Server) bindStart(c echo.Context) error {
	f := s.bind
	agent, err := s.bindableAgent(c.Request().Context(), c.QueryParam("agent"))
	if err != nil {
		return s.agentErrorPage(c, err)
	}
	oc, _, err := f.client(c.Request().Context())
	if err != nil {
		return s.errorPage(c, http.StatusServiceUnavailable, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.", err)
	}
	st := flowState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Agent: agent.ID}
	ck, err := f.seal.cookie(flowCookie, bindPath, st, s.cfg.Now(), flowTTL)
	if err != nil {
		return err
	}
	c.SetCookie(ck)
	return c.Redirect(http.StatusFound, oc.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)))
}

// bindCallback is the IdP's redirect: it checks state, redeems the code
// with the PKCE verifier, verifies the ID token and its nonce, checks the
// person may bind the agent and shows the consent page.
func (s *Server) bindCallback(c echo.Context) error {
	f := s.bind
	ctx := c.Request().Context()
	var st flowState
	if err := f.seal.open(c.Request(), flowCookie, &st, s.cfg.Now()); err != nil {
		return s.errorPage(c, http.StatusBadRequest, "Sign-in expired", "This sign-in was not started here or took too long. Open the binding link again.", err)
	}
	c.SetCookie(f.seal.clear(flowCookie, bindPath))
	if e := c.QueryParam("error"); e != "" {
		return s.errorPage(c, http.StatusForbidden, "Sign-in refused", "The identity provider did not sign you in. Open the binding link again.", errors.New("idp error "+safeParam(e)))
	}
	if subtle.ConstantTimeCompare([]byte(c.QueryParam("state")), []byte(st.State)) != 1 {
		return s.errorPage(c, http.StatusBadRequest, "Sign-in expired", "This sign-in does not match the one started here. Open the binding link again.", errors.New("state mismatch"))
	}
	oc, verifier, err := f.client(ctx)
	if err != nil {
		return s.errorPage(c, http.StatusServiceUnavailable, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.", err)
	}
	tok, err := oc.Exchange(oidc.ClientContext(ctx, f.cfg.HTTPClient), c.QueryParam("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return s.errorPage(c, http.StatusBadGateway, "Sign-in failed", "The identity provider refused the sign-in. Open the binding link again.", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err == nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		err = errors.New("nonce mismatch")
	}
	if err != nil {
		return s.errorPage(c, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be verified.", err)
	}
	u, err := token.UserFromIDToken(f.cfg.Provider, idt)
	if err != nil {
		return s.errorPage(c, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer lacks your user id.", err)
	}
	agent, err := s.mayBind(ctx, st.Agent, u)
	if err != nil {
		return s.agentErrorPage(c, err)
	}
	cs := consentState{User: u.ID, Email: u.Email, Issuer: u.Issuer, Groups: u.Groups, AuthTime: u.AuthTime.Unix(),
		Agent: agent.ID, CSRF: randomToken()}
	if u.AuthTime.IsZero() {
		cs.AuthTime = s.cfg.Now().Unix() // the IdP just authenticated the person
	}
	ck, err := f.seal.cookie(consentCookie, bindPath, cs, s.cfg.Now(), flowTTL)
	if err != nil {
		return err
	}
	c.SetCookie(ck)
	return page(c, http.StatusOK, "consent.html", s.consentData(agent, cs))
}

// bindConsent is the consent form's POST: the CSRF token must match the
// one sealed in the consent cookie; the scopes chosen must be the agent's
// and the duration within the configured bound.
func (s *Server) bindConsent(c echo.Context) error {
	f := s.bind
	ctx := c.Request().Context()
	var cs consentState
	if err := f.seal.open(c.Request(), consentCookie, &cs, s.cfg.Now()); err != nil {
		return s.errorPage(c, http.StatusForbidden, "Consent expired", "This page expired or was not shown to you by this issuer. Open the binding link again.", err)
	}
	if tok := c.FormValue("csrf_token"); tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(cs.CSRF)) != 1 {
		return s.errorPage(c, http.StatusForbidden, "Request refused", "The form's security token is missing or wrong. Open the binding link again.", errors.New("csrf token mismatch"))
	}
	u := &token.User{ID: cs.User, Email: cs.Email, Groups: cs.Groups, Issuer: cs.Issuer}
	agent, err := s.mayBind(ctx, cs.Agent, u)
	if err != nil {
		return s.agentErrorPage(c, err)
	}
	form, err := c.FormParams()
	if err != nil {
		return s.errorPage(c, http.StatusBadRequest, "Request refused", "The form could not be read.", err)
	}
	scopes := slices.Compact(slices.Sorted(slices.Values(form["scope"])))
	for _, sc := range scopes {
		if !slices.Contains(agent.Capabilities, sc) {
			return s.errorPage(c, http.StatusBadRequest, "Request refused", "A chosen tool is not one of this agent's capabilities.", errors.New("scope not a capability"))
		}
	}
	if len(scopes) == 0 {
		return s.errorPage(c, http.StatusBadRequest, "Nothing allowed", "Choose at least one tool, or close the page to refuse.", nil)
	}
	ttl, err := time.ParseDuration(c.FormValue("duration"))
	if err != nil || ttl <= 0 || ttl > f.cfg.MaxTTL {
		return s.errorPage(c, http.StatusBadRequest, "Request refused", "Choose one of the offered durations.", err)
	}
	id, err := binding.NewID()
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	b, err := s.cfg.Bindings.Create(ctx, binding.Binding{ID: id, User: cs.User, Email: cs.Email, Groups: cs.Groups,
		Issuer: cs.Issuer, Agent: agent.ID, Scopes: scopes, Expiry: now.Add(ttl).Truncate(time.Second).UTC(),
		AuthTime: time.Unix(cs.AuthTime, 0).UTC()})
	if err != nil {
		return s.errorPage(c, http.StatusServiceUnavailable, "Binding not stored", "The binding could not be stored. Try again in a minute.", err)
	}
	if err := s.auditBinding(c, audit.Issue, "binding created", b); err != nil {
		return err
	}
	c.SetCookie(f.seal.clear(consentCookie, bindPath))
	s.cfg.Logger.Info("binding created", "request_id", requestID(c), "binding", b.ID, "agent", b.Agent, "user", b.User)
	return page(c, http.StatusOK, "done.html", map[string]any{"Title": "Agent bound", "AgentID": b.Agent,
		"User": display(b.User, b.Email), "Scopes": b.Scopes, "BindingID": b.ID,
		"Expiry": b.Expiry.Format("2006-01-02 15:04 MST"), "ExpiryISO": b.Expiry.Format(time.RFC3339)})
}

// errors of the agent checks, turned into pages by agentErrorPage.
var (
	errAgentUnknown  = errors.New("agent not registered")
	errAgentInactive = errors.New("agent not active")
	errNotAllowed    = errors.New("user may not bind this agent")
	errUserRevoked   = errors.New("user revoked")
)

func (s *Server) bindableAgent(ctx context.Context, id string) (*registry.Agent, error) {
	if id == "" {
		return nil, errAgentUnknown
	}
	a, err := s.cfg.Registry.Get(ctx, id)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return nil, errAgentUnknown
	case err != nil:
		return nil, err
	case a.Status != registry.StatusActive:
		return nil, errAgentInactive
	}
	return a, nil
}

// mayBind applies the exchange's rule, and refuses revoked users.
func (s *Server) mayBind(ctx context.Context, agentID string, u *token.User) (*registry.Agent, error) {
	a, err := s.bindableAgent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	rev, err := s.cfg.Revocations.Check(ctx, revocation.Subjects{AgentID: a.ID, UserID: u.ID})
	switch {
	case err != nil:
		return nil, err
	case rev != nil:
		return nil, errUserRevoked
	case !token.MayBind(a, u):
		return nil, errNotAllowed
	}
	return a, nil
}

func (s *Server) agentErrorPage(c echo.Context, err error) error {
	switch {
	case errors.Is(err, errAgentUnknown):
		return s.errorPage(c, http.StatusNotFound, "Unknown agent", "No agent with this id is registered. Check the link you were given.", err)
	case errors.Is(err, errAgentInactive):
		return s.errorPage(c, http.StatusForbidden, "Agent not active", "This agent is suspended or revoked; it cannot be bound.", err)
	case errors.Is(err, errNotAllowed):
		return s.errorPage(c, http.StatusForbidden, "Not allowed", "You are not among the people or groups allowed to bind this agent. Ask its owner to add you.", err)
	case errors.Is(err, errUserRevoked):
		return s.errorPage(c, http.StatusForbidden, "Not allowed", "Your access, or this agent, has been revoked.", err)
	}
	return s.errorPage(c, http.StatusServiceUnavailable, "Temporarily unavailable", "The issuer could not check this agent. Try again in a minute.", err)
}

// duration is an option of the consent page's select.
type duration struct {
	Value, Label string
	Selected     bool
}

var bindDurations = []time.Duration{time.Hour, 8 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour}

func (s *Server) consentData(a *registry.Agent, cs consentState) map[string]any {
	ds := slices.Clone(bindDurations)
	ds = slices.DeleteFunc(ds, func(d time.Duration) bool { return d > s.bind.cfg.MaxTTL })
	for _, d := range []time.Duration{s.bind.cfg.DefaultTTL, s.bind.cfg.MaxTTL} {
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	opts := make([]duration, 0, len(ds))
	for _, d := range ds {
		opts = append(opts, duration{Value: d.String(), Label: humanDuration(d), Selected: d == s.bind.cfg.DefaultTTL})
	}
	name := a.Name
	if name == "" {
		name = a.ID
	}
	return map[string]any{"Title": "Bind " + name, "AgentName": name, "AgentID": a.ID, "AgentOwner": a.Owner,
		"User": display(cs.User, cs.Email), "Capabilities": a.Capabilities, "Durations": opts, "CSRF": cs.CSRF,
		"Action": bindConsent}
}

func humanDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	case d%time.Hour == 0:
		n := int(d / time.Hour)
		if n == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", n)
	}
	return d.String()
}

func display(user, email string) string {
	if email != "" {
		return email
	}
	return user
}

// auditBinding records a binding event (ids only).
func (s *Server) auditBinding(c echo.Context, d audit.Decision, what string, b *binding.Binding) error {
	rec := audit.Record{Decision: d, RequestID: requestID(c), Issuer: s.cfg.IssuerURL, AgentID: b.Agent, UserID: b.User,
		SessionID: b.ID, Reason: what + " " + b.ID + " scope=" + strings.Join(b.Scopes, " ")}
	if by := adminOf(c); by != "" {
		rec.Reason += " (by " + by + ")"
	}
	if _, err := s.cfg.Audit.Append(rec); err != nil {
		return fmt.Errorf("audit %s %s: %w", what, b.ID, err)
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeParam keeps an IdP error code fit for a log line.
func safeParam(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return url.QueryEscape(s)
}
