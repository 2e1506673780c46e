package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/glob"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
)

const ciAudience = "https://aip.example"

func ciPolicy(t *testing.T, name, iss string, conds map[string]string) token.CIPolicy {
	t.Helper()
	p := token.CIPolicy{Name: name, Issuer: iss, Audience: ciAudience, Agent: "deployer", Tools: []string{"deploy"}, TTL: 5 * time.Minute}
	for c, pat := range conds {
		g, err := glob.Compile(pat)
		if err != nil {
			t.Fatal(err)
		}
		p.Conditions = append(p.Conditions, token.CICondition{Claim: c, Pattern: g})
	}
	return p
}

func newCIVerifier(t *testing.T, policies ...token.CIPolicy) *token.CIVerifier {
	t.Helper()
	v, err := token.NewCIVerifier(token.CIConfig{Policies: policies, Replay: nonce.NewMemory(nonce.MemoryConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCIVerify(t *testing.T) {
	gh := env.StartCIIssuer(t)
	other := env.StartCIIssuer(t) // trusted by no policy
	v := newCIVerifier(t,
		ciPolicy(t, "prod", gh.URL, map[string]string{"repository": "octo-org/app", "environment": "prod"}),
		ciPolicy(t, "main", gh.URL, map[string]string{"repository_owner_id": "4200001", "ref": "refs/heads/main"}),
		ciPolicy(t, "any-branch", gh.URL, map[string]string{"repository": "octo-org/*", "ref": "refs/heads/**"}),
	)
	claims := func(change map[string]any) map[string]any {
		c := env.GitHubClaims(ciAudience, "octo-org", "app")
		for k, val := range change {
			c[k] = val
		}
		return c
	}
	tests := []struct {
		name       string
		token      string
		wantPolicy string
		wantErr    error
	}{
		{"main branch: first matching policy", gh.Mint(t, claims(nil)), "main", nil},
		{"environment: the first policy wins over the second", gh.Mint(t, claims(map[string]any{"environment": "prod"})), "prod", nil},
		{"feature branch of another repo of the owner", gh.Mint(t, claims(map[string]any{"repository": "octo-org/lib", "ref": "refs/heads/feat/x", "repository_owner_id": "1"})), "any-branch", nil},
		{"audience as a list", gh.Mint(t, claims(map[string]any{"aud": []string{"sts", ciAudience}})), "main", nil},
		{"another owner", gh.Mint(t, claims(map[string]any{"repository": "evil-org/app", "repository_owner_id": "666"})), "", token.ErrNoCIPolicy},
		{"tag ref", gh.Mint(t, claims(map[string]any{"ref": "refs/tags/v1"})), "", token.ErrNoCIPolicy},
		{"wrong audience", gh.Mint(t, claims(map[string]any{"aud": "https://elsewhere.example"})), "", token.ErrNoCIPolicy},
		{"untrusted issuer", other.Mint(t, claims(nil)), "", token.ErrUnknownIssuer},
		{"iss of a trusted issuer, signed by another", other.Mint(t, claims(map[string]any{"iss": gh.URL})), "", token.ErrSubjectToken},
		{"bad signature", gh.Forge(t, claims(nil)), "", token.ErrSubjectToken},
		{"expired", gh.Mint(t, claims(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), "", token.ErrSubjectToken},
		{"not yet valid", gh.Mint(t, claims(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})), "", token.ErrSubjectToken},
		{"no sub", gh.Mint(t, claims(map[string]any{"sub": nil})), "", token.ErrSubjectToken},
		{"not a jwt", "not-a-jwt", "", token.ErrSubjectToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := v.Verify(context.Background(), tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if ct.Policy.Name != tt.wantPolicy || ct.Issuer != gh.URL || ct.Subject != "repo:octo-org/app:ref:refs/heads/main" || len(ct.Digest) != 64 {
				t.Errorf("got policy %q issuer %q sub %q digest %q", ct.Policy.Name, ct.Issuer, ct.Subject, ct.Digest)
			}
		})
	}
}

// Redeem records a token once: by its jti, or by its hash without one.
func TestCIRedeem(t *testing.T) {
	gh := env.StartCIIssuer(t)
	v := newCIVerifier(t, ciPolicy(t, "p", gh.URL, map[string]string{"repository": "octo-org/app"}))
	claims := env.GitHubClaims(ciAudience, "octo-org", "app")
	withJTI := claims
	noJTI := env.GitHubClaims(ciAudience, "octo-org", "app")
	noJTI["jti"] = nil
	for name, c := range map[string]map[string]any{"jti": withJTI, "no jti": noJTI} {
		t.Run(name, func(t *testing.T) {
			ct, err := v.Verify(context.Background(), gh.Mint(t, c))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Redeem(context.Background(), ct); err != nil {
				t.Fatalf("first redeem: %v", err)
			}
			if err := v.Redeem(context.Background(), ct); !errors.Is(err, token.ErrCIReplay) {
				t.Fatalf("second redeem: %v, want ErrCIReplay", err)
			}
		})
	}
	// Two tokens with the same jti are one token.
	c1 := env.GitHubClaims(ciAudience, "octo-org", "app")
	c1["jti"] = "same"
	c2 := env.GitHubClaims(ciAudience, "octo-org", "app")
	c2["jti"], c2["run_id"] = "same", "2"
	ct1, err := v.Verify(context.Background(), gh.Mint(t, c1))
	if err != nil {
		t.Fatal(err)
	}
	ct2, err := v.Verify(context.Background(), gh.Mint(t, c2))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Redeem(context.Background(), ct1); err != nil {
		t.Fatal(err)
	}
	if err := v.Redeem(context.Background(), ct2); !errors.Is(err, token.ErrCIReplay) {
		t.Fatalf("same jti: %v, want ErrCIReplay", err)
	}
}

// A replay store that started after a token was issued (an issuer
// restarted on the file store, a Redis that lost its data) cannot tell
// whether it was exchanged before: the token is refused, even when most
// of its lifetime has passed.
func TestCIRedeemAfterRestart(t *testing.T) {
	gh := env.StartCIIssuer(t)
	now := time.Now()
	c := env.GitHubClaims(ciAudience, "octo-org", "app")
	c["iat"], c["nbf"], c["exp"] = now.Add(-6*time.Minute).Unix(), now.Add(-6*time.Minute).Unix(), now.Add(4*time.Minute).Unix()
	tok := gh.Mint(t, c)
	restarted := newCIVerifier(t, ciPolicy(t, "p", gh.URL, map[string]string{"repository": "octo-org/app"}))
	ct, err := restarted.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Redeem(context.Background(), ct); !errors.Is(err, token.ErrCIReplay) || !strings.Contains(err.Error(), "request a new CI token") {
		t.Fatalf("redeem after the store started: %v, want ErrCIReplay asking for a new token", err)
	}
}

// jwks_url skips discovery: the keys are fetched from it.
func TestCIVerifyJWKSURL(t *testing.T) {
	gh := env.StartCIIssuer(t)
	p := ciPolicy(t, "p", gh.URL, map[string]string{"repository": "octo-org/app"})
	p.JWKSURL = gh.URL + "/.well-known/jwks"
	v := newCIVerifier(t, p)
	if _, err := v.Verify(context.Background(), gh.Mint(t, env.GitHubClaims(ciAudience, "octo-org", "app"))); err != nil {
		t.Fatal(err)
	}
	p.JWKSURL = gh.URL + "/nothing-here"
	v = newCIVerifier(t, p)
	if _, err := v.Verify(context.Background(), gh.Mint(t, env.GitHubClaims(ciAudience, "octo-org", "app"))); err == nil {
		t.Fatal("verified with no keys")
	}
}

func TestNewCIVerifierRefuses(t *testing.T) {
	good := ciPolicy(t, "p", "https://ci.example", map[string]string{"repository": "a/b"})
	noConds := good
	noConds.Conditions = nil
	twoJWKS := good
	twoJWKS.JWKSURL = "https://ci.example/keys"
	tests := map[string]token.CIConfig{
		"no replay store": {Policies: []token.CIPolicy{good}},
		"no conditions":   {Policies: []token.CIPolicy{noConds}, Replay: nonce.NewMemory(nonce.MemoryConfig{})},
		"two jwks urls":   {Policies: []token.CIPolicy{good, twoJWKS}, Replay: nonce.NewMemory(nonce.MemoryConfig{})},
	}
	for name, cfg := range tests {
		if _, err := token.NewCIVerifier(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
