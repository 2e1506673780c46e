package aipcmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/registry"
)

const mcpAudience = "https://mcp.test/files"

// The lifecycle of a native agent, driven through the CLI against a real
// issuer: keygen, register, list, show, AID, verify-aid, token exchange,
// suspend, reactivate, revoke.
func TestAgentLifecycle(t *testing.T) {
	ti := startTestIssuer(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "coder.key")

	code, out, errOut := ti.run(t, "agent", "keygen", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errOut)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	thumbprint := field(t, out, "thumbprint:")
	if code, _, errOut := ti.run(t, "agent", "keygen", "--out", keyFile); code != 1 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Fatalf("keygen over an existing key: exit %d, %s", code, errOut)
	}

	code, out, errOut = ti.admin(t, "agent", "register", "--id", "coder", "--name", "Coder", "--owner", "platform",
		"--key", keyFile+".pub", "--capability", "read_file,search", "--capability", "write_file", "--allow-user", localUser)
	if code != 0 || !strings.Contains(out, "registered agent coder (active)") {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = ti.admin(t, "agent", "list")
	if code != 0 || !strings.Contains(out, "coder") || !strings.Contains(out, "jkt:"+thumbprint) {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	code, out, _ = ti.admin(t, "agent", "show", "--output", "json", "coder")
	var shown registry.Agent
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil {
		t.Fatalf("show: exit %d, %v\n%s", code, err, out)
	}
	if shown.KeyThumbprint != thumbprint || shown.Owner != "platform" || len(shown.Capabilities) != 3 {
		t.Fatalf("show: %+v, want thumbprint %s", shown, thumbprint)
	}

	t.Run("aid verifies offline and tampering is caught", func(t *testing.T) {
		aidFile := filepath.Join(dir, "coder.aid.json")
		if code, _, errOut := ti.admin(t, "agent", "aid", "--out", aidFile, "coder"); code != 0 {
			t.Fatalf("aid: exit %d: %s", code, errOut)
		}
		jwksFile := filepath.Join(dir, "jwks.json")
		if code, out, errOut := ti.run(t, "agent", "aid", "--issuer", ti.URL, "coder"); code != 1 || out != "" || !strings.Contains(errOut, "401") {
			t.Fatalf("aid without admin credential: exit %d, %q %q", code, out, errOut)
		}
		fetchJWKSFile(t, ti, jwksFile)
		doc, err := os.ReadFile(aidFile)
		if err != nil {
			t.Fatal(err)
		}
		tampered := writeFile(t, dir, "tampered.aid.json", strings.Replace(string(doc), `"read_file"`, `"rm_rf"`, 1), 0o600)
		for _, tt := range []struct {
			name     string
			args     []string
			wantCode int
			wantOut  string
		}{
			{"offline jwks file", []string{"--jwks", jwksFile, aidFile}, 0, "OK " + aidFile},
			{"jwks from the issuer", []string{"--issuer", ti.URL, aidFile}, 0, "agent_id:     coder"},
			{"jwks url", []string{"--jwks", ti.URL + "/.well-known/jwks.json", "--output", "json", aidFile}, 0, `"agent_id": "coder"`},
			{"tampered", []string{"--jwks", jwksFile, tampered}, 1, "FAIL " + tampered + ": invalid agent identity document"},
			{"not an aid", []string{"--jwks", jwksFile, jwksFile}, 1, "FAIL"},
			{"no file", []string{"--jwks", jwksFile}, 2, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, out, errOut := ti.run(t, append([]string{"agent", "verify-aid"}, tt.args...)...)
				if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.wantCode, tt.wantOut)
				}
			})
		}
	})

	exchange := func(t *testing.T, extra ...string) (int, string, string) {
		t.Helper()
		args := []string{"token", "exchange", "--issuer", ti.URL, "--audience", mcpAudience, "--key", keyFile, "--local-user=" + localUser}
		return ti.run(t, append(args, extra...)...)
	}

	t.Run("token exchange with the native key", func(t *testing.T) {
		code, out, errOut := exchange(t, "--scope", "read_file write_file")
		if code != 0 || errOut != "" {
			t.Fatalf("exchange: exit %d, stderr %q", code, errOut)
		}
		c := verifyAAT(t, ti, strings.TrimSpace(out))
		if c.Subject != localUser || c.Agent.ID != "coder" || c.Confirmation == nil || c.Confirmation.JKT != thumbprint ||
			strings.Join(c.Capabilities.Tools, " ") != "read_file write_file" || c.UserBinding.AuthMethod != "local" {
			t.Fatalf("claims: %+v", c)
		}
		code, out, _ = exchange(t, "--output", "json")
		var res issuerclient.TokenResponse
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.TokenType != "DPoP" || res.Scope != "read_file search write_file" {
			t.Fatalf("json: exit %d, %v: %s", code, err, out)
		}
		verifyAAT(t, ti, res.AccessToken)
	})

	t.Run("suspended, reactivated", func(t *testing.T) {
		if code, out, _ := ti.admin(t, "agent", "suspend", "coder"); code != 0 || out != "agent coder: suspended\n" {
			t.Fatalf("suspend: exit %d %q", code, out)
		}
		if code, out, errOut := exchange(t); code != 1 || out != "" || !strings.Contains(errOut, "agent is not active") {
			t.Fatalf("exchange while suspended: exit %d, %q %q", code, out, errOut)
		}
		if code, out, _ := ti.admin(t, "agent", "reactivate", "coder"); code != 0 || out != "agent coder: active\n" {
			t.Fatalf("reactivate: exit %d %q", code, out)
		}
		if code, _, errOut := exchange(t); code != 0 {
			t.Fatalf("exchange after reactivation: exit %d, %s", code, errOut)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		code, out, errOut := ti.admin(t, "agent", "revoke", "--reason", "key leaked", "coder")
		if code != 0 || out != "agent coder: revoked\n" {
			t.Fatalf("revoke: exit %d %q %q", code, out, errOut)
		}
		code, out, errOut = exchange(t)
		if code != 1 || out != "" || !strings.Contains(errOut, "unauthorized_client): agent is not active (the agent is suspended or revoked") {
			t.Fatalf("exchange after revocation: exit %d, %q %q", code, out, errOut)
		}
		if code, _, errOut := ti.admin(t, "agent", "reactivate", "coder"); code != 1 || !strings.Contains(errOut, "409") {
			t.Fatalf("reactivate a revoked agent: exit %d %q", code, errOut)
		}
	})
}

// field returns the value after prefix on the line that starts with it.
func field(t *testing.T, out, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", prefix, out)
	return ""
}

// fetchJWKSFile saves the issuer's JWKS to path, as an offline verifier
// would have it.
func fetchJWKSFile(t *testing.T, ti *testIssuer, path string) {
	t.Helper()
	o := issuerFlags{url: ti.URL, output: "json"}
	c, err := o.client()
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(path), filepath.Base(path), string(b), 0o644)
}

// verifyAAT checks an AAT against the issuer's published JWKS, as an
// enforcer does.
func verifyAAT(t *testing.T, ti *testIssuer, raw string) *aat.Claims {
	t.Helper()
	src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: ti.URL + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{ti.URL: src}, Audience: mcpAudience})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("AAT does not verify against the JWKS: %v", err)
	}
	return c
}
