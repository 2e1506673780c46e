package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/test/issuertest"
	"github.com/aip-project/aip/test/stacktest"
)

const (
	sidecarUser     = "carol"
	sidecarAudience = "https://everything.mcp.test"
	sidecarPolicy   = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: everything}
spec:
  allowed_tools: [echo, get-sum, add]
`
)

// startSidecarIssuer runs a real issuer (local key, file store, local
// user: the embedded default, which needs the file store) on loopback.
func startSidecarIssuer(t *testing.T, clock *stacktest.OffsetClock) (string, *issuer.Issuer) {
	t.Helper()
	return issuertest.Start(t, issuertest.Options{LocalUser: sidecarUser, Now: clock.Now})
}

// registerNativeAgent registers a native-key agent for the local user.
func registerNativeAgent(t *testing.T, is *issuer.Issuer, id string, tools ...string) *dpop.Key {
	t.Helper()
	return issuertest.RegisterNativeAgent(t, is, sidecarUser, id, tools...)
}

// startSidecar runs `aip-enforcer serve` in-process (plain loopback) in
// front of upstream, with the shared Redis when redisAddr is set.
// publicURL, when set, is the URL clients use (a load balancer's).
func startSidecar(t *testing.T, issuerURL, upstream, redisAddr, prefix, publicURL string) string {
	t.Helper()
	return stacktest.StartSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: upstream, Policy: sidecarPolicy,
		Audience: sidecarAudience, Redis: redisAddr, RedisPrefix: prefix, PublicURL: publicURL}).URL
}

// agentTransport is the agent SDK for a native-key agent of the local
// user, for audience, on the clock now (nil: time.Now).
func agentTransport(t *testing.T, issuerURL, audience string, k *dpop.Key, base http.RoundTripper, now func() time.Time) *agent.Transport {
	t.Helper()
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: audience, Key: k, LocalUser: sidecarUser, Base: base, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
