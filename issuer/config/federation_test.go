package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/config"
)

const spiffeSection = `
spiffe: {workload_api_addr: "unix:///run/spire/agent.sock", trust_domain: a.test}
`

func TestParseFederation(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal + spiffeSection + `
federation:
  bundle_endpoint: {listen: "127.0.0.1:8444", profile: https_spiffe, refresh_hint: 30s}
  federates_with:
    - trust_domain: b.test
      bundle_endpoint_url: https://spire-b.example:8443
      profile: https_spiffe
      endpoint_spiffe_id: spiffe://b.test/spire/server
    - {trust_domain: c.test, bundle_endpoint_url: "https://c.example/bundle", profile: https_web}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Federation
	if f == nil || f.BundleEndpoint == nil || f.BundleEndpoint.RefreshHint != 30*time.Second || len(f.FederatesWith) != 2 ||
		f.FederatesWith[0].EndpointID.String() != "spiffe://b.test/spire/server" || f.FederatesWith[1].TrustDomain.Name() != "c.test" {
		t.Fatalf("federation = %+v", f)
	}
	if cfg, _ := config.Parse([]byte(minimal)); cfg.Federation != nil {
		t.Error("no federation section: Federation not nil")
	}
}

func TestParseFederationProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"needs spiffe", minimal + "federation: {bundle_endpoint: {listen: ':1', profile: https_spiffe}}\n",
			[]string{"federation: needs the spiffe section"}},
		{"empty section", minimal + spiffeSection + "federation: {}\n", []string{"federation: set bundle_endpoint"}},
		{"own trust domain", minimal + spiffeSection + "federation: {federates_with: [{trust_domain: a.test, bundle_endpoint_url: 'https://x', profile: https_web}]}\n",
			[]string{"federation.federates_with[0].trust_domain: is the issuer's own"}},
		{"peer problems", minimal + spiffeSection + "federation: {federates_with: [{trust_domain: b.test, bundle_endpoint_url: 'http://x', profile: https_spiffe}]}\n",
			[]string{"federation.federates_with[0].bundle_endpoint_url: must be an https URL", "federation.federates_with[0].endpoint_spiffe_id: is required"}},
		{"unknown key", minimal + spiffeSection + "federation: {federates_with: [{trust_domain: b.test, bundle_url: x}]}\n",
			[]string{"federation.federates_with[0].bundle_url: unknown key"}},
		{"endpoint problems", minimal + spiffeSection + "federation: {bundle_endpoint: {profile: https_web}}\n",
			[]string{"federation.bundle_endpoint.listen: must be", "federation.bundle_endpoint: profile https_web needs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
