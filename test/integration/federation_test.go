package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/federation"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
	"github.com/aip-project/aip/test/stacktest"
)

// Two real SPIRE trust domains federated with each other: an agent of B
// gets an AAT from issuer A and calls enforcers of A in front of a real
// MCP server; an agent of the unfederated domain C is refused by both.
func TestFederation(t *testing.T) {
	d := newFedDomains(t)
	mcpURL := env.MCPServerHTTP(t)
	issuerURL, bundleURL, is := startFedIssuer(t, d)
	for name, id := range map[string]string{"fed-b": d.agentB.String(), "fed-c": d.agentC.String()} {
		// C's agent is registered too: what refuses it is its trust domain.
		if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: name, SPIFFEID: id,
			Capabilities: []string{"echo"}, AllowedUsers: []string{sidecarUser}}); err != nil {
			t.Fatal(err)
		}
	}
	srcB := stacktest.X509Source(t, d.b, d.agentB)
	srcC := stacktest.X509Source(t, d.c, d.agentC)
	srcE := stacktest.X509Source(t, d.a, d.enforcer)
	issuerClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: tlsconfig.TLSClientConfig(srcE, tlsconfig.AuthorizeID(d.issuer))}}

	enf := startFedSidecar(t, d, d.enforcer, `{issuer: "`+issuerURL+`"}`, d.bPeer(t), issuerClient, stacktest.MTLSClient(srcB, d.enforcer), mcpURL)
	// The second enforcer trusts issuer A by the bundle A serves (its AAT
	// keys as JWT authorities), authenticated with A's Workload API bundle.
	aPeer := `{trust_domain: ` + d.a.TrustDomain.Name() + `, bundle_endpoint_url: "` + bundleURL +
		`", profile: https_spiffe, endpoint_spiffe_id: "` + d.issuer.String() + `"}`
	// It reaches the issuer (revocations) with its own client, checking
	// the issuer's SVID against its bundles.
	enfByBundle := startFedSidecar(t, d, d.enforcerByBundle, `{issuer: "`+issuerURL+`", bundle_trust_domain: `+d.a.TrustDomain.Name()+
		`, spiffe_id: "`+d.issuer.String()+`"}`, aPeer+", "+d.bPeer(t), nil, stacktest.MTLSClient(srcB, d.enforcerByBundle), mcpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("agent of B gets an AAT from issuer A over mTLS", func(t *testing.T) {
		status, body := exchangeMTLS(t, stacktest.MTLSClient(srcB, d.issuer), issuerURL)
		if status != http.StatusOK {
			t.Fatalf("token for B's agent: %d %v", status, body)
		}
		raw, _ := body["access_token"].(string)
		c := verifyAAT(t, issuerClient, issuerURL, raw)
		if c.Actor.Subject != d.agentB.String() || c.Agent.ID != "fed-b" || c.Confirmation == nil || c.Confirmation.X5TS256 != x5t(t, srcB) {
			t.Fatalf("act.sub %q agent %q cnf %+v; want %s, fed-b, bound to B's certificate", c.Actor.Subject, c.Agent.ID, c.Confirmation, d.agentB)
		}
	})

	t.Run("agent of B gets an AAT from issuer A with a JWT-SVID", func(t *testing.T) {
		svid, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: issuerURL, Subject: d.agentB},
			workloadapi.WithAddr(d.b.WorkloadAddr))
		if err != nil {
			t.Fatal(err)
		}
		status, body := exchangeJWTSVID(t, srcB, d, issuerURL, svid.Marshal())
		if status != http.StatusOK || body["access_token"] == nil {
			t.Fatalf("token by B's JWT-SVID: %d %v", status, body)
		}
		raw, _ := body["access_token"].(string)
		if c := verifyAAT(t, issuerClient, issuerURL, raw); c.Actor.Subject != d.agentB.String() {
			t.Fatalf("act.sub %q, want %s", c.Actor.Subject, d.agentB)
		}
	})

	t.Run("agent of unfederated C is refused by issuer A with a JWT-SVID", func(t *testing.T) {
		svid, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: issuerURL, Subject: d.agentC},
			workloadapi.WithAddr(d.c.WorkloadAddr))
		if err != nil {
			t.Fatal(err)
		}
		status, body := exchangeJWTSVID(t, srcE, d, issuerURL, svid.Marshal())
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Fatalf("token by C's JWT-SVID: %d %v, want 401 invalid_client", status, body)
		}
	})

	for name, base := range map[string]string{"by jwks": enf, "by bundle": enfByBundle} {
		t.Run("agent of B calls echo through the enforcer trusting issuer A "+name, func(t *testing.T) {
			own := d.enforcer
			if base == enfByBundle {
				own = d.enforcerByBundle
			}
			tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: sidecarAudience, X509Source: srcB,
				LocalUser: sidecarUser, ServerAuthorizer: tlsconfig.AuthorizeOneOf(d.issuer, own)})
			if err != nil {
				t.Fatal(err)
			}
			checkEchoOnly(t, ctx, "fed-b", base+"/mcp", tr.Client(), "from b")
		})
	}

	t.Run("issuer A's bundle endpoint serves its AAT keys", func(t *testing.T) {
		srcI := stacktest.X509Source(t, d.a, d.issuer)
		b, err := federation.FetchBundle(ctx, d.a.TrustDomain, bundleURL, federation.WithSPIFFEAuth(srcI, d.issuer))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := is.Signer.PublicKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !b.HasJWTAuthority(keys[0].ID) || len(b.X509Authorities()) == 0 {
			t.Fatalf("bundle: jwt %d (want kid %s), x509 %d", len(b.JWTAuthorities()), keys[0].ID, len(b.X509Authorities()))
		}
		if seq, ok := b.SequenceNumber(); !ok || seq == 0 {
			t.Errorf("no sequence number")
		}
	})

	t.Run("agent of unfederated C is refused by issuer A", func(t *testing.T) {
		status, body := exchangeMTLS(t, outsiderClient(srcC, srcE, d.issuer), issuerURL)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Fatalf("token for C's agent: %d %v, want 401 invalid_client", status, body)
		}
	})

	t.Run("agent of unfederated C is refused by the enforcers at the handshake", func(t *testing.T) {
		for _, base := range []string{enf, enfByBundle} {
			_, err := outsiderClient(srcC, srcE, d.enforcer, d.enforcerByBundle).Get(base + "/healthz")
			if !refusedHandshake(err) {
				t.Fatalf("C at %s: %v, want a TLS alert from the server", base, err)
			}
		}
	})

	t.Run("an AAT from an issuer not in the list gets issuer_untrusted", func(t *testing.T) {
		otherURL, other := issuertest.Start(t, issuertest.Options{LocalUser: sidecarUser})
		key := issuertest.RegisterNativeAgent(t, other, sidecarUser, "stranger", "echo")
		rec := &bearerRecorder{base: stacktest.MTLSClient(srcB, d.enforcer, d.enforcerByBundle).Transport}
		for _, base := range []string{enf, enfByBundle} {
			tr, err := agent.New(agent.Config{IssuerURL: otherURL, Audience: sidecarAudience, Key: key,
				LocalUser: sidecarUser, Base: rec, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			status, resp := rpc(t, tr.Client(), base+"/mcp", "echo")
			if status != http.StatusUnauthorized || resp.Error.Code != -32020 || resp.Error.Data.TokenError != "issuer_untrusted" {
				t.Fatalf("%s: AAT of %s: %d %+v, want 401 -32020 issuer_untrusted", base, otherURL, status, resp.Error)
			}
			// The decision endpoint answers the same.
			req, err := http.NewRequest(http.MethodPost, base+"/v1/validate", strings.NewReader(`{"method":"tools/call","tool":"echo"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+rec.token)
			req.Header.Set("Content-Type", "application/json")
			vresp, err := stacktest.MTLSClient(srcB, d.enforcer, d.enforcerByBundle).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			vstatus, v := decodeJSON(t, vresp)
			data, _ := v["data"].(map[string]any)
			if vstatus != http.StatusUnauthorized || v["code"] != float64(-32020) || data["token_error"] != "issuer_untrusted" {
				t.Fatalf("%s/v1/validate: %d %v, want 401 -32020 issuer_untrusted", base, vstatus, v)
			}
		}
	})
}

// exchangeJWTSVID asks issuerURL for an AAT with a JWT-SVID as the actor
// token, over TLS without a client certificate (checking the issuer's
// certificate with bundles, which must hold A's).
func exchangeJWTSVID(t *testing.T, bundles x509bundle.Source, d fedDomains, issuerURL, svid string) (int, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: tlsconfig.TLSClientConfig(bundles, tlsconfig.AuthorizeID(d.issuer)), DisableKeepAlives: true}}
	a := stacktest.Exchange(t, c, issuerURL, stacktest.TokenRequest{SubjectToken: sidecarUser, SubjectTokenType: token.TokenTypeLocalUser,
		ActorToken: svid, ActorTokenType: token.TokenTypeJWT, Audience: sidecarAudience})
	return a.Status, a.Body
}
