package federation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/internal/keypath"
)

func TestValidatePeers(t *testing.T) {
	b := newCA(t, "b.test")
	boot := writeBundle(t, b.bundle())
	notBundle := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notBundle, []byte(`{"keys": 3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	spiffePeer := federation.PeerFile{TrustDomain: "b.test", BundleEndpointURL: "https://spire-b:8443",
		Profile: federation.ProfileSPIFFE, EndpointSPIFFEID: "spiffe://b.test/spire/server", BootstrapBundle: boot}
	webPeer := federation.PeerFile{TrustDomain: "c.test", BundleEndpointURL: "https://c.example/bundle", Profile: federation.ProfileWeb}
	tests := []struct {
		name string
		in   []federation.PeerFile
		want []string // problem paths and messages, in order
	}{
		{"valid", []federation.PeerFile{spiffePeer, webPeer}, nil},
		{"no bootstrap is valid", []federation.PeerFile{func() federation.PeerFile { p := spiffePeer; p.BootstrapBundle = ""; return p }()}, nil},
		{"bad trust domain", []federation.PeerFile{{TrustDomain: "B!", BundleEndpointURL: "https://x", Profile: federation.ProfileWeb}},
			[]string{"f[0].trust_domain: must be a trust domain"}},
		{"twice", []federation.PeerFile{webPeer, webPeer}, []string{"f[1].trust_domain: listed twice"}},
		{"http url", []federation.PeerFile{{TrustDomain: "c.test", BundleEndpointURL: "http://c/x", Profile: federation.ProfileWeb}},
			[]string{"f[0].bundle_endpoint_url: must be an https URL"}},
		{"missing url and profile", []federation.PeerFile{{TrustDomain: "c.test"}},
			[]string{"f[0].bundle_endpoint_url: is required", "f[0].profile: must be"}},
		{"spiffe without id", []federation.PeerFile{{TrustDomain: "b.test", BundleEndpointURL: "https://x", Profile: federation.ProfileSPIFFE}},
			[]string{"f[0].endpoint_spiffe_id: is required for https_spiffe"}},
		{"web with id", []federation.PeerFile{{TrustDomain: "c.test", BundleEndpointURL: "https://x", Profile: federation.ProfileWeb, EndpointSPIFFEID: "spiffe://c.test/x"}},
			[]string{"f[0].endpoint_spiffe_id: applies to profile https_spiffe only"}},
		{"bad bootstrap", []federation.PeerFile{func() federation.PeerFile { p := spiffePeer; p.BootstrapBundle = notBundle; return p }()},
			[]string{"f[0].bootstrap_bundle: cannot be read"}},
		{"missing ca file", []federation.PeerFile{func() federation.PeerFile { p := webPeer; p.CAFile = notBundle + ".none"; return p }()},
			[]string{"f[0].ca_file: cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps keypath.Problems
			out := federation.ValidatePeers(&ps, "f", tt.in)
			if len(ps) != len(tt.want) {
				t.Fatalf("problems = %v, want %d: %v", ps, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if got := ps[i].Path + ": " + ps[i].Message; !strings.HasPrefix(got, w) {
					t.Errorf("problem %d = %q, want prefix %q", i, got, w)
				}
			}
			if len(tt.want) == 0 && len(out) != len(tt.in) {
				t.Fatalf("got %d peers, want %d", len(out), len(tt.in))
			}
		})
	}
	var ps keypath.Problems
	out := federation.ValidatePeers(&ps, "f", []federation.PeerFile{spiffePeer})
	if len(ps) != 0 || out[0].Bootstrap == nil || !out[0].Bootstrap.HasX509Authority(b.cert) || out[0].EndpointID.String() != "spiffe://b.test/spire/server" {
		t.Fatalf("converted peer = %+v (%v)", out[0], ps)
	}
}

func TestValidateEndpoint(t *testing.T) {
	tests := []struct {
		name string
		in   federation.EndpointFile
		want string
	}{
		{"spiffe", federation.EndpointFile{Listen: "127.0.0.1:8444", Profile: federation.ProfileSPIFFE}, ""},
		{"web", federation.EndpointFile{Listen: ":8444", Profile: federation.ProfileWeb, CertFile: "c", KeyFile: "k", RefreshHint: "30s"}, ""},
		{"no listen", federation.EndpointFile{Profile: federation.ProfileSPIFFE}, "e.listen: must be host:port"},
		{"web without cert", federation.EndpointFile{Listen: ":1", Profile: federation.ProfileWeb}, "e: profile https_web needs"},
		{"spiffe with cert", federation.EndpointFile{Listen: ":1", Profile: federation.ProfileSPIFFE, CertFile: "c"}, "e: cert_file and key_file apply"},
		{"bad hint", federation.EndpointFile{Listen: ":1", Profile: federation.ProfileSPIFFE, RefreshHint: "10ms"}, "e.refresh_hint: must be"},
		{"bad profile", federation.EndpointFile{Listen: ":1", Profile: "web"}, "e.profile: must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps keypath.Problems
			out := federation.ValidateEndpoint(&ps, "e", &tt.in)
			switch {
			case tt.want == "" && len(ps) != 0:
				t.Fatalf("problems: %v", ps)
			case tt.want != "" && (len(ps) != 1 || !strings.HasPrefix(ps[0].Path+": "+ps[0].Message, tt.want)):
				t.Fatalf("problems = %v, want one starting %q", ps, tt.want)
			}
			if tt.name == "spiffe" && out.RefreshHint != federation.DefaultRefreshHint {
				t.Errorf("default refresh hint = %s", out.RefreshHint)
			}
			if tt.name == "web" && out.RefreshHint != 30*time.Second {
				t.Errorf("refresh hint = %s", out.RefreshHint)
			}
		})
	}
	if federation.ValidateEndpoint(nil, "e", nil) != nil {
		t.Error("nil endpoint not nil")
	}
}
