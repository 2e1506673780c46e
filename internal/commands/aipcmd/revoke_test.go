package aipcmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/revocation"
)

func TestRevokeFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    revocation.Revocation
		wantErr string
	}{
		{"agent", []string{"--agent", "coder", "--reason", "leaked"}, revocation.Revocation{Kind: revocation.KindAgent, Subject: "coder", Reason: "leaked"}, ""},
		{"user", []string{"--user", "bob", "--reason", "left"}, revocation.Revocation{Kind: revocation.KindUser, Subject: "bob", Reason: "left"}, ""},
		{"session", []string{"--session", "s1", "--reason", "r"}, revocation.Revocation{Kind: revocation.KindSession, Subject: "s1", Reason: "r"}, ""},
		{"jti", []string{"--jti", "j1", "--reason", "r"}, revocation.Revocation{Kind: revocation.KindJTI, Subject: "j1", Reason: "r"}, ""},
		{"no subject", []string{"--reason", "r"}, revocation.Revocation{}, "exactly one of"},
		{"two subjects", []string{"--agent", "a", "--user", "u", "--reason", "r"}, revocation.Revocation{}, "exactly one of"},
		{"no reason", []string{"--agent", "a"}, revocation.Revocation{}, "--reason is required"},
		{"negative expiry", []string{"--jti", "j", "--reason", "r", "--expires", "-1m"}, revocation.Revocation{}, "--expires must be positive"},
		{"argument", []string{"--jti", "j", "--reason", "r", "extra"}, revocation.Revocation{}, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := (&testIssuer{}).run(t, append([]string{"revoke", "--issuer", "http://127.0.0.1:1"}, tt.args...)...)
			if tt.wantErr != "" {
				if code != 2 || !strings.Contains(errOut, tt.wantErr) {
					t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.wantErr)
				}
				return
			}
			// Valid flags reach the (unreachable) issuer.
			if code != 1 || !strings.Contains(errOut, "revoke "+string(tt.want.Kind)+" \""+tt.want.Subject+"\": POST /v1/revocations") {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
		})
	}
}

// Revoking a user through `aip revoke` refuses their next token exchange;
// a jti revocation with --expires is stored with its expiry.
func TestRevokeAgainstIssuer(t *testing.T) {
	ti := startTestIssuer(t)
	keyFile := filepath.Join(t.TempDir(), "bot.key")
	if code, _, errOut := ti.run(t, "agent", "keygen", "--alg", "ES256", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	// The private key file is accepted too: only its public part is sent.
	if code, _, errOut := ti.admin(t, "agent", "register", "--id", "bot", "--key", keyFile, "--capability", "search", "--allow-user", localUser); code != 0 {
		t.Fatalf("register: %s", errOut)
	}
	exchange := []string{"token", "exchange", "--issuer", ti.URL, "--audience", mcpAudience, "--key", keyFile, "--local-user=" + localUser}
	if code, _, errOut := ti.run(t, exchange...); code != 0 {
		t.Fatalf("exchange before revocation: %s", errOut)
	}

	code, out, errOut := ti.admin(t, "revoke", "--user", localUser, "--reason", "left the company")
	if code != 0 || out != "revoked user "+localUser+": left the company\n" {
		t.Fatalf("revoke user: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = ti.run(t, exchange...)
	if code != 1 || out != "" || !strings.Contains(errOut, "invalid_grant): authentication failed (the user token was refused, or the agent, user or session is revoked)") {
		t.Fatalf("exchange after revocation: exit %d %q %q", code, out, errOut)
	}

	code, out, _ = ti.admin(t, "revoke", "--jti", "some-jti", "--reason", "stolen", "--expires", "10m", "--output", "json")
	var got revocation.Revocation
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("revoke jti: exit %d %v %q", code, err, out)
	}
	if got.Kind != revocation.KindJTI || got.ExpiresAt.Before(time.Now().Add(9*time.Minute)) {
		t.Fatalf("revocation: %+v", got)
	}

	// Without an admin credential: refused, nothing revoked.
	code, _, errOut = ti.run(t, "revoke", "--issuer", ti.URL, "--agent", "bot", "--reason", "r")
	if code != 1 || !strings.Contains(errOut, "401 invalid_token") {
		t.Fatalf("anonymous revoke: exit %d %q", code, errOut)
	}
}
