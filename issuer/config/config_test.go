package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/config"
)

const minimal = `
identity_providers:
  - {name: dex, issuer_url: "https://dex.example.org", audience: aip}
`

func TestReferenceFile(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "deploy", "issuer.yaml"))
	if err != nil {
		t.Fatalf("deploy/issuer.yaml: %v", err)
	}
	if cfg.Token.DefaultTTL != 5*time.Minute || cfg.Token.MaxTTL != time.Hour {
		t.Errorf("token ttl = %v/%v", cfg.Token.DefaultTTL, cfg.Token.MaxTTL)
	}
	if got := cfg.IdentityProviders[0].Claims; got.UserID != "sub" || got.Groups != "groups" {
		t.Errorf("claims = %+v", got)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Signer.Type != config.SignerTypeLocal || cfg.Store.Type != config.StoreTypeFile || cfg.Server.BodyLimit != 64<<10 {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

func TestParseProblems(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s.secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		yaml string
		want []string // key paths expected among the problems
	}{
		{"unknown top-level key", minimal + "listne: x\n", []string{"listne: unknown key"}},
		{"unknown nested key", minimal + "signer: {type: local, key_file: k, algorthm: EdDSA}\n", []string{"signer.algorthm: unknown key"}},
		{"unknown key in list", "identity_providers: [{name: a, issuer_url: 'https://a', audience: x, claim: {}}]\n", []string{"identity_providers[0].claim: unknown key"}},
		{"all problems at once", "listen: nope\ntoken: {default_ttl: 2h, max_ttl: 3h}\nsigner: {type: hsm}\n",
			[]string{"listen:", "token.default_ttl:", "token.max_ttl:", "signer.type:", "identity_providers:"}},
		{"wrong type", minimal + "admins: {spiffe_ids: x}\n", []string{"admins.spiffe_ids: must be a list"}},
		{"duplicate key", minimal + "listen: a:1\nlisten: b:2\n", []string{"listen: duplicate key"}},
		{"http issuer off loopback", minimal + "issuer_url: http://issuer.example.org\n", []string{"issuer_url: must be https"}},
		{"default above max", minimal + "token: {default_ttl: 30m, max_ttl: 10m}\n", []string{"token.default_ttl: must not exceed"}},
		{"vault without key", minimal + "signer: {type: vault, address: 'https://v', token: t, token_file: " + tokenFile + "}\n",
			[]string{"signer.key: is required", "signer.token: set token or token_file"}},
		{"vault with local key file", minimal + "signer: {type: vault, address: 'https://v', key: k, key_file: f}\n", []string{"signer.key_file: only for type local"}},
		{"redis without addrs", minimal + "store: {type: redis, path: ''}\n", []string{"store.addrs:"}},
		{"redis bad addr", minimal + "store: {type: redis, path: '', addrs: [nohost]}\n", []string{"store.addrs[0]: must be host:port"}},
		{"file store with addrs", minimal + "store: {type: file, path: d, addrs: ['a:1']}\n", []string{"store: addrs"}},
		{"duplicate idp", "identity_providers: [{name: a, issuer_url: 'https://a', audience: x}, {name: a, issuer_url: 'https://a', audience: y}]\n",
			[]string{"identity_providers[1].name: duplicate", "identity_providers[1].issuer_url: duplicate"}},
		{"idp without audience", "identity_providers: [{name: a, issuer_url: 'https://a'}]\n", []string{"identity_providers[0].audience: is required"}},
		{"bad spiffe", minimal + "spiffe: {workload_api_addr: /tmp/x, trust_domain: 'Not A TD', id_template: /agent}\n",
			[]string{"spiffe.workload_api_addr:", "spiffe.trust_domain:"}},
		{"bad id template", minimal + "spiffe: {workload_api_addr: 'unix:///x', trust_domain: example.org, id_template: /agent}\n", []string{"spiffe.id_template:"}},
		{"admin spiffe without tls", minimal + "admins: {spiffe_ids: ['spiffe://example.org/admin']}\n", []string{"admins.spiffe_ids: needs tls"}},
		{"local user off loopback", "listen: 0.0.0.0:8443\nlocal_user: {enabled: true}\n", []string{"local_user.enabled: only for the embedded default"}},
		{"local user with vault", "local_user: {enabled: true}\nsigner: {type: vault, address: 'https://v', key: k}\n", []string{"local_user.enabled: only for the embedded default"}},
		{"body limit", minimal + "server: {body_limit: 1GiB}\n", []string{"server.body_limit:"}},
		{"policies key path", minimal + "policies: {'https://mcp/x': ''}\n", []string{`policies["https://mcp/x"]:`}},
		{"admin socket without path", minimal + "admins: {socket: {allowed_uids: [1000]}}\n", []string{"admins.socket.path: is required"}},
		{"admin socket path too long", minimal + "admins: {socket: {path: /" + strings.Repeat("a", 120) + "}}\n", []string{"admins.socket.path: must be at most 107 bytes"}},
		{"abstract admin socket", minimal + "admins: {socket: {path: '@aip-admin'}}\n", []string{"admins.socket.path: must be a file path"}},
		{"admin socket bad uids", minimal + "admins: {socket: {path: /run/aip/a.sock, allowed_uids: [1000, -1, 4294967295]}}\n",
			[]string{"admins.socket.allowed_uids[1]: must be a uid", "admins.socket.allowed_uids[2]: must be a uid"}},
		{"admin socket unknown group", minimal + "admins: {socket: {path: /run/aip/a.sock, group: no-such-group-aip}}\n", []string{"admins.socket.group: must be a group"}},
		{"admin socket unknown key", minimal + "admins: {socket: {path: /run/aip/a.sock, uids: [1]}}\n", []string{"admins.socket.uids: unknown key"}},
		{"not yaml", "listen: [\n", []string{"not valid YAML"}},
		{"not a mapping", "- a\n", []string{"must be a mapping"}},
		{"merge key", "base: &b {listen: x}\n<<: *b\n", []string{"base: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml))
			var verr *config.ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Parse = %v, want a *ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s.secret") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestAdminSocket(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want *config.AdminSocket
	}{
		{"off by default", minimal, nil},
		{"own uid by default", minimal + "admins: {socket: {path: /run/aip/issuer-admin.sock}}\n",
			&config.AdminSocket{Path: "/run/aip/issuer-admin.sock", GID: -1}},
		{"uids and a numeric group", minimal + "admins: {socket: {path: a.sock, allowed_uids: [0, 1000], group: '4321'}}\n",
			&config.AdminSocket{Path: "a.sock", UIDs: []uint32{0, 1000}, GID: 4321}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Admins.Socket, tt.want) {
				t.Fatalf("admins.socket = %+v, want %+v", cfg.Admins.Socket, tt.want)
			}
		})
	}
}

func TestVaultTokenFile(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s.secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(minimal + "signer: {type: vault, address: 'https://v:8200', key: aip, token_file: " + tokenFile + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Signer.Token != "s.secret" || cfg.Signer.KeyFile != "" || cfg.Signer.Mount != "transit" {
		t.Fatalf("signer = %+v", cfg.Signer.Type)
	}
}
