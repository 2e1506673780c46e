package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// The issuer serves HTTPS with its own X509-SVID; agents authenticate with
// theirs as the client certificate (RFC 8705), admins too.
func TestMTLSIssuer(t *testing.T) {
	s := env.SPIREServer(t)
	ids := newMTLSIDs(s.TrustDomain)
	for _, id := range []spiffeid.ID{ids.issuer, ids.admin, ids.agentA, ids.ghost} {
		s.CreateEntry(t, id)
	}
	issuerURL, _ := startMTLSIssuer(t, s, ids)
	admin := stacktest.MTLSClient(stacktest.X509Source(t, s, ids.admin), ids.issuer)
	srcA := stacktest.X509Source(t, s, ids.agentA)
	agentA := stacktest.MTLSClient(srcA, ids.issuer)
	ghost := stacktest.MTLSClient(stacktest.X509Source(t, s, ids.ghost), ids.issuer)

	t.Run("serves its own SVID", func(t *testing.T) {
		// The other SVIDs this process holds must not be served.
		if id, err := x509svid.IDFromCert(stacktest.ServerCert(t, agentA, issuerURL)); err != nil || id != ids.issuer {
			t.Fatalf("issuer certificate id = %v (%v), want %s", id, err, ids.issuer)
		}
	})

	t.Run("admin SPIFFE ID registers an agent", func(t *testing.T) {
		status, body := postJSON(t, admin, issuerURL+"/v1/agents", map[string]any{
			"agent_id": "mtls-a", "spiffe_id": ids.agentA.String(), "capabilities": []string{"echo"},
			"allowed_users": []string{sidecarUser}})
		if status != http.StatusCreated || body["agent_id"] != "mtls-a" || body["status"] != "active" {
			t.Fatalf("create agent as admin: %d %v", status, body)
		}
	})

	t.Run("non-admin SVID gets 403", func(t *testing.T) {
		status, body := postJSON(t, agentA, issuerURL+"/v1/agents", map[string]any{
			"agent_id": "intruder", "spiffe_id": ids.agentA.String(), "capabilities": []string{"echo"}})
		if status != http.StatusForbidden || body["error"] != "access_denied" {
			t.Fatalf("create agent as an agent: %d %v, want 403 access_denied", status, body)
		}
		resp, err := admin.Get(issuerURL + "/v1/agents/intruder")
		if err != nil {
			t.Fatal(err)
		}
		if status, _ := decodeJSON(t, resp); status != http.StatusNotFound {
			t.Fatalf("the refused agent exists: GET as admin = %d", status)
		}
	})

	t.Run("agent authenticates with its X509-SVID", func(t *testing.T) {
		status, body := exchangeMTLS(t, agentA, issuerURL)
		if status != http.StatusOK || body["token_type"] != "Bearer" {
			t.Fatalf("token by mTLS: %d %v, want 200 Bearer", status, body)
		}
		raw, _ := body["access_token"].(string)
		c := verifyAAT(t, agentA, issuerURL, raw)
		if c.Actor.Subject != ids.agentA.String() || c.Agent.ID != "mtls-a" || c.Subject != sidecarUser {
			t.Fatalf("act.sub %q agent.id %q sub %q; want %s, mtls-a, %s", c.Actor.Subject, c.Agent.ID, c.Subject, ids.agentA, sidecarUser)
		}
		if c.Confirmation == nil || c.Confirmation.X5TS256 != x5t(t, srcA) || c.Confirmation.JKT != "" {
			t.Fatalf("cnf = %+v, want x5t#S256 %s only", c.Confirmation, x5t(t, srcA))
		}
	})

	t.Run("unregistered SPIFFE ID is refused", func(t *testing.T) {
		status, body := exchangeMTLS(t, ghost, issuerURL)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Fatalf("token for an unregistered agent: %d %v, want 401 invalid_client", status, body)
		}
	})
}

// The sidecar in tls.mode spiffe, in front of server-everything: agents
// reach it with their X509-SVIDs and x5t-bound AATs through the agent SDK
// and the official MCP Go SDK client.
func TestMTLSSidecar(t *testing.T) {
	s := env.SPIREServer(t)
	mcpURL := env.MCPServerHTTP(t)
	ids := newMTLSIDs(s.TrustDomain)
	for _, id := range []spiffeid.ID{ids.issuer, ids.enforcer, ids.agentA, ids.agentB, ids.outsider} {
		s.CreateEntry(t, id)
	}
	issuerURL, is := startMTLSIssuer(t, s, ids)
	for name, id := range map[string]spiffeid.ID{"mtls-a": ids.agentA, "mtls-b": ids.agentB} {
		if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: name, SPIFFEID: id.String(),
			Capabilities: []string{"echo"}, AllowedUsers: []string{sidecarUser}}); err != nil {
			t.Fatal(err)
		}
	}
	srcE := stacktest.X509Source(t, s, ids.enforcer)
	issuerClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: tlsconfig.TLSClientConfig(srcE, tlsconfig.AuthorizeID(ids.issuer))}}
	srcA, srcB := stacktest.X509Source(t, s, ids.agentA), stacktest.X509Source(t, s, ids.agentB)
	enf := startMTLSSidecar(t, s, ids.enforcer, issuerURL, issuerClient, stacktest.MTLSClient(srcA, ids.enforcer), mcpURL)

	servers := tlsconfig.AuthorizeOneOf(ids.issuer, ids.enforcer)
	trA, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcA,
		LocalUser: sidecarUser, ServerAuthorizer: servers})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("agent A calls echo", func(t *testing.T) {
		checkEchoOnly(t, ctx, "mtls-a", enf+"/mcp", trA.Client(), "over mtls")
	})

	t.Run("the token is bound to agent A's certificate", func(t *testing.T) {
		// The SDK's own token: what it sends on every call.
		rec := &bearerRecorder{base: stacktest.MTLSClient(srcA, ids.issuer, ids.enforcer).Transport}
		tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcA,
			LocalUser: sidecarUser, Base: rec, HTTPClient: stacktest.MTLSClient(srcA, ids.issuer)})
		if err != nil {
			t.Fatal(err)
		}
		if status, resp := rpc(t, tr.Client(), enf+"/mcp", ""); status != http.StatusOK {
			t.Fatalf("initialize: %d %+v", status, resp.Error)
		}
		c := verifyAAT(t, issuerClient, issuerURL, rec.token)
		if c.Confirmation == nil || c.Confirmation.X5TS256 != x5t(t, srcA) || c.Actor.Subject != ids.agentA.String() {
			t.Fatalf("cnf %+v act.sub %q; want x5t#S256 %s and %s", c.Confirmation, c.Actor.Subject, x5t(t, srcA), ids.agentA)
		}
	})

	t.Run("agent A's token over agent B's connection is refused", func(t *testing.T) {
		// Everything A has (its token, fetched over A's own mTLS, and a
		// fresh DPoP proof by A's key on each call) but B's connection.
		stolen, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcA,
			LocalUser: sidecarUser, HTTPClient: stacktest.MTLSClient(srcA, ids.issuer),
			Base: stacktest.MTLSClient(srcB, ids.enforcer).Transport})
		if err != nil {
			t.Fatal(err)
		}
		status, resp := rpc(t, stolen.Client(), enf+"/mcp", "echo")
		if status != http.StatusUnauthorized || resp.Error.Code != -32009 || resp.Error.Data.TokenError != "binding_mismatch" {
			t.Fatalf("A's token on B's connection: %d %+v, want 401 -32009 binding_mismatch", status, resp.Error)
		}
		// B with its own token on its own connection is let in: the
		// refusal above is the binding, not B.
		trB, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcB,
			LocalUser: sidecarUser, ServerAuthorizer: servers})
		if err != nil {
			t.Fatal(err)
		}
		if status, resp := rpc(t, trB.Client(), enf+"/mcp", ""); status != http.StatusOK {
			t.Fatalf("B on its own connection: %d %+v", status, resp.Error)
		}
	})

	t.Run("agent A's SVID without a token is -32015 AAT required", func(t *testing.T) {
		status, resp := rpc(t, stacktest.MTLSClient(srcA, ids.enforcer), enf+"/mcp", "")
		if status != http.StatusUnauthorized || resp.Error.Code != -32015 {
			t.Fatalf("SVID, no token: %d %+v, want 401 -32015", status, resp.Error)
		}
	})

	t.Run("an ID outside id_patterns is refused at the handshake", func(t *testing.T) {
		_, err := stacktest.MTLSClient(stacktest.X509Source(t, s, ids.outsider), ids.enforcer).Get(enf + "/healthz")
		if !refusedHandshake(err) {
			t.Fatalf("outsider: %v, want a TLS alert from the server", err)
		}
	})

	t.Run("a client without a certificate is refused", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: tlsconfig.TLSClientConfig(srcA, tlsconfig.AuthorizeID(ids.enforcer)), DisableKeepAlives: true}}
		_, err := c.Get(enf + "/healthz")
		if !refusedHandshake(err) {
			t.Fatalf("no client certificate: %v, want a TLS alert from the server", err)
		}
	})
}

// The sidecar keeps serving across a rotation of its own SVID, without a
// restart.
func TestMTLSSidecarSVIDRotation(t *testing.T) {
	s := env.SPIREServer(t)
	mcpURL := env.MCPServerHTTP(t)
	ids := newMTLSIDs(s.TrustDomain)
	rotating := spiffeid.RequireFromPath(s.TrustDomain, "/aip/enforcer-rotating")
	s.CreateEntry(t, ids.issuer)
	s.CreateEntry(t, ids.agentA)
	s.CreateEntryTTL(t, rotating, 10*time.Second)
	issuerURL, is := startMTLSIssuer(t, s, ids)
	if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: "mtls-a", SPIFFEID: ids.agentA.String(),
		Capabilities: []string{"echo"}, AllowedUsers: []string{sidecarUser}}); err != nil {
		t.Fatal(err)
	}
	srcA := stacktest.X509Source(t, s, ids.agentA)
	issuerClient := stacktest.MTLSClient(srcA, ids.issuer)
	probe := stacktest.MTLSClient(srcA, rotating)
	enf := startMTLSSidecar(t, s, rotating, issuerURL, issuerClient, probe, mcpURL)
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcA,
		LocalUser: sidecarUser, ServerAuthorizer: tlsconfig.AuthorizeOneOf(ids.issuer, rotating)})
	if err != nil {
		t.Fatal(err)
	}

	first := stacktest.ServerCert(t, probe, enf)
	if life := first.NotAfter.Sub(first.NotBefore); life > 20*time.Second {
		t.Fatalf("the entry's SVID lives %v: the 10s x509 TTL was not applied", life)
	}
	start := time.Now()
	if status, resp := rpc(t, tr.Client(), enf+"/mcp", ""); status != http.StatusOK || resp.Error.Code != 0 {
		t.Fatalf("initialize before rotation: %d %+v", status, resp.Error)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cert := stacktest.ServerCert(t, probe, enf) // a new connection each time
		if id, err := x509svid.IDFromCert(cert); err != nil || id != rotating {
			t.Fatalf("served certificate id = %v (%v), want %s", id, err, rotating)
		}
		if cert.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Logf("server certificate rotated within %v: serial %x -> %x", time.Since(start).Round(time.Millisecond), first.SerialNumber, cert.SerialNumber)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the served SVID never rotated (serial %x, not after %s)", first.SerialNumber, first.NotAfter)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if status, resp := rpc(t, tr.Client(), enf+"/mcp", ""); status != http.StatusOK || resp.Error.Code != 0 {
		t.Fatalf("initialize after rotation: %d %+v", status, resp.Error)
	}
}

// bearerRecorder keeps the last AAT sent through it.
type bearerRecorder struct {
	base  http.RoundTripper
	token string
}

func (r *bearerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		r.token = tok
	}
	return r.base.RoundTrip(req)
}
