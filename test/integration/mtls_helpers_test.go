package integration

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// mtlsIDs are the workloads of the mTLS tests. They all run as this
// process's uid, so each SPIRE entry applies to every one of them and
// each component must pick its own SVID.
type mtlsIDs struct {
	issuer, enforcer, admin, agentA, agentB, ghost, outsider spiffeid.ID
}

func newMTLSIDs(td spiffeid.TrustDomain) mtlsIDs {
	return mtlsIDs{
		issuer:   spiffeid.RequireFromPath(td, "/aip/issuer"),
		enforcer: spiffeid.RequireFromPath(td, "/aip/enforcer"),
		admin:    spiffeid.RequireFromPath(td, "/ops/admin"),
		agentA:   spiffeid.RequireFromPath(td, "/agent/mtls-a"),
		agentB:   spiffeid.RequireFromPath(td, "/agent/mtls-b"),
		ghost:    spiffeid.RequireFromPath(td, "/agent/mtls-ghost"),
		outsider: spiffeid.RequireFromPath(td, "/ci/outsider"),
	}
}

// x5t is the RFC 8705 thumbprint of src's certificate, computed here
// independently of the code under test.
func x5t(t *testing.T, src x509svid.Source) string {
	t.Helper()
	sv, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sv.Certificates[0].Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// startMTLSIssuer runs a real issuer serving HTTPS with its own SVID,
// agents and admins authenticated by their X509-SVIDs.
func startMTLSIssuer(t *testing.T, s *env.SPIRE, ids mtlsIDs) (string, *issuer.Issuer) {
	t.Helper()
	is := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: sidecarUser, SVID: ids.issuer, SPIRE: s,
		Extra: fmt.Sprintf("admins: {spiffe_ids: [%q]}\n", ids.admin)})
	return is.URL, is.Issuer
}

// startMTLSSidecar runs `aip-enforcer serve` with tls.mode spiffe, serving
// the SVID of own, in front of upstream; it trusts the issuer at
// issuerURL, reached with issuerClient, and is ready once it answers
// probe.
func startMTLSSidecar(t *testing.T, s *env.SPIRE, own spiffeid.ID, issuerURL string, issuerClient, probe *http.Client, upstream string) string {
	t.Helper()
	return stacktest.StartSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: upstream, Policy: sidecarPolicy,
		Audience: sidecarAudience, IssuerClient: issuerClient, Probe: probe,
		TLS: stacktest.SPIFFETLS(s.WorkloadAddr, own, "spiffe://"+s.TrustDomain.Name()+"/agent/*", s.TrustDomain)}).URL
}

// exchangeMTLS asks the issuer for an AAT for the local user with no
// actor token and no DPoP proof: the client certificate is the agent's
// only credential (RFC 8705 §2).
func exchangeMTLS(t *testing.T, c *http.Client, issuerURL string) (int, map[string]any) {
	t.Helper()
	a := stacktest.Exchange(t, c, issuerURL, stacktest.TokenRequest{SubjectToken: sidecarUser,
		SubjectTokenType: token.TokenTypeLocalUser, Audience: sidecarAudience})
	return a.Status, a.Body
}

// postJSON POSTs v as JSON with c.
func postJSON(t *testing.T, c *http.Client, u string, v any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return decodeJSON(t, resp)
}

func decodeJSON(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	return resp.StatusCode, stacktest.DecodeJSON(t, resp)
}

// verifyAAT checks raw against the issuer's JWKS (fetched with c) as an
// enforcer for sidecarAudience would, and returns its claims.
func verifyAAT(t *testing.T, c *http.Client, issuerURL, raw string) *aat.Claims {
	t.Helper()
	claims, err := stacktest.VerifyAAT(c, issuerURL, sidecarAudience, raw, nil)
	if err != nil {
		t.Fatalf("AAT does not verify: %v", err)
	}
	return claims
}

// checkEchoOnly connects the official MCP Go SDK client, as name, to
// endpoint over c (the agent SDK) and checks that echo answers msg and
// that get-sum, outside the agent's capabilities, is refused with -32017.
func checkEchoOnly(t *testing.T, ctx context.Context, name, endpoint string, c *http.Client, msg string) {
	t.Helper()
	session, err := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1.0.0"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: c}, nil)
	if err != nil {
		t.Fatalf("connect through %s: %v", endpoint, err)
	}
	defer func() { _ = session.Close() }()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
	if err != nil {
		t.Fatalf("echo: %v", err)
	}
	if text, ok := res.Content[0].(*mcp.TextContent); !ok || res.IsError || !strings.Contains(text.Text, msg) {
		t.Fatalf("echo result %+v", res.Content[0])
	}
	_, err = session.CallTool(ctx, &mcp.CallToolParams{Name: "get-sum", Arguments: map[string]any{"a": 1, "b": 2}})
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != -32017 {
		t.Fatalf("get-sum (not a capability): %v, want -32017", err)
	}
}

// refusedHandshake reports whether err is the server's TLS alert: the
// connection was refused during the handshake, not later.
func refusedHandshake(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}
