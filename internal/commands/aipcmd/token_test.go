package aipcmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenExchangeUsage(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "a.key")
	if code, _, errOut := (&testIssuer{}).run(t, "agent", "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	loose := filepath.Join(dir, "loose.key")
	data, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "loose.key", string(data), 0o644)
	tokenFile := writeFile(t, dir, "id.token", "eyJ.e30.sig\n", 0o600)
	base := []string{"token", "exchange", "--issuer", "http://127.0.0.1:1"}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no audience", []string{"--key", key, "--local-user"}, 2, "--audience is required"},
		{"no agent credential", []string{"--audience", "a", "--local-user"}, 2, "give --key, --workload-api, or both"},
		{"both agent credentials: key loaded, svid fetched", []string{"--audience", "a", "--key", key, "--workload-api", "unix:///nonexistent/agent.sock", "--local-user"}, 1, "fetch a JWT-SVID from the workload api at unix:///nonexistent/agent.sock"},
		{"both agent credentials, bad key", []string{"--audience", "a", "--key", loose, "--workload-api", "unix:///nonexistent/agent.sock", "--local-user"}, 1, "mode 0644"},
		{"no user", []string{"--audience", "a", "--key", key}, 2, "exactly one of --subject-token-file, --local-user, --login and --binding"},
		{"two users", []string{"--audience", "a", "--key", key, "--local-user", "--subject-token-file", tokenFile}, 2, "exactly one of --subject-token-file, --local-user, --login and --binding"},
		{"bad output", []string{"--audience", "a", "--key", key, "--local-user", "--output", "yaml"}, 2, "want table or json"},
		{"key readable by others", []string{"--audience", "a", "--key", loose, "--local-user"}, 1, "mode 0644: it must not be readable by group or others"},
		{"public key given", []string{"--audience", "a", "--key", key + ".pub", "--local-user"}, 1, `no PEM "PRIVATE KEY" block`},
		{"missing key", []string{"--audience", "a", "--key", filepath.Join(dir, "nope"), "--local-user"}, 1, "no such file"},
		{"missing token file", []string{"--audience", "a", "--key", key, "--subject-token-file", filepath.Join(dir, "nope")}, 1, "--subject-token-file"},
		{"issuer down", []string{"--audience", "a", "--key", key, "--subject-token-file", tokenFile}, 1, "token exchange: POST /v1/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := (&testIssuer{}).run(t, append(base, tt.args...)...)
			if code != tt.wantCode || out != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
			if strings.Contains(errOut, "eyJ.e30.sig") {
				t.Fatal("the subject token leaked to stderr")
			}
		})
	}
}

// An unregistered key is refused with the issuer's uniform message and a
// hint.
func TestTokenExchangeUnregisteredKey(t *testing.T) {
	ti := startTestIssuer(t)
	key := filepath.Join(t.TempDir(), "stranger.key")
	if code, _, errOut := ti.run(t, "agent", "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	code, out, errOut := ti.run(t, "token", "exchange", "--issuer", ti.URL, "--audience", mcpAudience, "--key", key, "--local-user="+localUser)
	if code != 1 || out != "" || !strings.Contains(errOut, "401 invalid_client): authentication failed (the agent's key or SVID was refused: is it registered?)") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
}

// --workload-api with --key: the SVID identifies the agent and the key
// binds the token (a DPoP proof on the request); alone, no key is sent.
func TestTokenExchangeSVIDWithKey(t *testing.T) {
	key := filepath.Join(t.TempDir(), "a.key")
	if code, _, errOut := (&testIssuer{}).run(t, "agent", "keygen", "--out", key); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	tests := []struct {
		name    string
		key     string
		wantKey bool
	}{
		{"svid and key", key, true},
		{"svid alone", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := exchangeFlags{keyPath: tt.key, workloadAPI: "unix:///run/spire/agent.sock",
				audiences: stringList{"a"}, localUser: localUserFlag{set: true, name: "alice"},
				fetchSVID: func(_ context.Context, addr, aud string) (string, error) {
					return "svid-for-" + aud, nil
				}}
			o.issuer.url = "http://127.0.0.1:1"
			o.issuer.output = "table"
			req, _, err := o.request(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if req.ActorToken != "svid-for-http://127.0.0.1:1" {
				t.Errorf("actor token = %q", req.ActorToken)
			}
			if (req.DPoPKey != nil) != tt.wantKey {
				t.Errorf("DPoP key sent: %v, want %v", req.DPoPKey != nil, tt.wantKey)
			}
		})
	}
}
