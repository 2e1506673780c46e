package sidecar_test

import (
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/sidecar"
)

const fedPeers = `federation:
  federates_with:
    - {trust_domain: a.test, bundle_endpoint_url: "https://issuer-a.example:8444", profile: https_spiffe, endpoint_spiffe_id: "spiffe://a.test/aip/issuer"}
    - {trust_domain: b.test, bundle_endpoint_url: "https://b.example/bundle", profile: https_web}
`

func TestFederationConfig(t *testing.T) {
	cfg, err := sidecar.Parse(baseConfig(`{issuer: "https://issuer-a.example", bundle_trust_domain: a.test}, {issuer: "https://issuer-b.example"}`, fedPeers))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Federation) != 2 || cfg.Federation[1].TrustDomain.Name() != "b.test" {
		t.Fatalf("federation = %+v", cfg.Federation)
	}
	a, b := cfg.Issuers[0], cfg.Issuers[1]
	if a.JWKSURL != "" || a.BundleTrustDomain.Name() != "a.test" {
		t.Errorf("issuer by bundle = %+v, want no jwks url and trust domain a.test", a)
	}
	if b.JWKSURL != "https://issuer-b.example/.well-known/jwks.json" || !b.BundleTrustDomain.IsZero() {
		t.Errorf("issuer by jwks = %+v", b)
	}
}

func TestFederationConfigProblems(t *testing.T) {
	tests := []struct {
		name, issuers, extra, want string
	}{
		{"bundle of an unknown peer", `{issuer: "https://i.example", bundle_trust_domain: c.test}`, fedPeers,
			"issuers[0].bundle_trust_domain: must name a trust domain of federation.federates_with"},
		{"bundle without federation", `{issuer: "https://i.example", bundle_trust_domain: a.test}`, "",
			"issuers[0].bundle_trust_domain: must name a trust domain"},
		{"jwks and bundle", `{issuer: "https://i.example", jwks_url: "https://i.example/k", bundle_trust_domain: a.test}`, fedPeers,
			"issuers[0]: set jwks_url or bundle_trust_domain, not both"},
		{"bad trust domain", `{issuer: "https://i.example", bundle_trust_domain: "A B"}`, fedPeers,
			"issuers[0].bundle_trust_domain: must be a trust domain name"},
		{"empty section", `{issuer: "https://i.example"}`, "federation: {}\n",
			"federation.federates_with: at least one"},
		{"peer problem", `{issuer: "https://i.example"}`, "federation: {federates_with: [{trust_domain: b.test, bundle_endpoint_url: 'https://b', profile: https_spiffe}]}\n",
			"federation.federates_with[0].endpoint_spiffe_id: is required"},
		{"unknown key", `{issuer: "https://i.example"}`, "federation: {peers: []}\n",
			"federation.peers: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sidecar.Parse(baseConfig(tt.issuers, tt.extra))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestIssuerSPIFFEID(t *testing.T) {
	const spiffeTLS = "tls: {mode: spiffe, workload_api_addr: 'unix:///run/spire/agent.sock', trust_domains: [a.test]}\n"
	cfg, err := sidecar.Parse([]byte(`listen: 0.0.0.0:8443
upstream: {url: "http://127.0.0.1:3000"}
policy: {path: /etc/aip/policy.yaml}
audience: "https://mcp.example.com"
issuers: [{issuer: "https://issuer-a.example", spiffe_id: "spiffe://a.test/aip/issuer"}]
` + spiffeTLS))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Issuers[0].SPIFFEID.String(); got != "spiffe://a.test/aip/issuer" {
		t.Errorf("spiffe_id = %q", got)
	}
	for name, tt := range map[string]struct{ issuer, want string }{
		"plain tls": {`{issuer: "https://i.example", spiffe_id: "spiffe://a.test/aip/issuer"}`, "issuers[0].spiffe_id: needs tls.mode spiffe"},
		"not an id": {`{issuer: "https://i.example", spiffe_id: "a.test/issuer"}`, "issuers[0].spiffe_id: must be a SPIFFE ID"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sidecar.Parse(baseConfig(tt.issuer, ""))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}
