package issuer_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
)

// nativeAgent registers a DPoP agent for the engineering group directly
// in r's registry and returns its key.
func nativeAgent(t *testing.T, r *running, id string) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Issuer.Registry().Create(context.Background(), registry.Agent{ID: id, PublicKey: &jose.JSONWebKey{Key: k.Public()},
		Capabilities: []string{"read_file"}, AllowedGroups: []string{"engineering"}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// With keys in Vault transit, issued AATs verify against the JWKS, and a
// stopped Vault makes issuance fail with 503 (never another key).
func TestVaultSigner(t *testing.T) {
	dex, vault := env.Dex(t), env.Vault(t)
	r := startIssuer(t, dexIDP(dex.Issuer, dex.ClientID)+fmt.Sprintf(
		"signer: {type: vault, address: %q, token: %q, key: %q}\n", vault.Addr, vault.Token, vault.TransitKey), issuer.Options{})
	key := nativeAgent(t, r, "vaulted")
	bob := dex.IDToken(t, env.Bob)

	got := r.exchange(t, bob, key, "")
	if got.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", got.Status, got.Body)
	}
	raw := got.field(t, "access_token")
	c := r.verifyAAT(t, raw)
	if c.Agent.ID != "vaulted" {
		t.Fatalf("claims: %+v", c)
	}
	if hdr, _, _ := strings.Cut(raw, "."); hdr == "" {
		t.Fatal("no header")
	}
	jwks := call(t, http.MethodGet, r.URL+"/.well-known/jwks.json", nil, "")
	if !strings.Contains(string(jwks.Body), `"kid":"`+vault.TransitKey+`-v`) {
		t.Fatalf("jwks does not publish the transit key versions: %s", jwks.Body)
	}

	vault.Stop(t)
	t.Cleanup(func() { vault.Start(t) })
	got = r.exchange(t, bob, key, "")
	if got.Status != http.StatusServiceUnavailable || got.field(t, "error") != oauth.TemporarilyUnavailable {
		t.Fatalf("vault stopped: %d %s", got.Status, got.Body)
	}
	if ready := call(t, http.MethodGet, r.URL+"/readyz", nil, ""); ready.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with vault stopped: %d", ready.Status)
	}
}

// An agent proves itself with its JWT-SVID from SPIRE (actor_token).
func TestSPIREJWTSVIDActor(t *testing.T) {
	dex, spire := env.Dex(t), env.SPIREServer(t)
	id := spiffeid.RequireFromPath(spire.TrustDomain, "/agent/svid-bot")
	spire.CreateEntry(t, id)
	r := startIssuer(t, dexIDP(dex.Issuer, dex.ClientID)+fmt.Sprintf(
		"spiffe: {workload_api_addr: %q, trust_domain: %q}\n", spire.WorkloadAddr, spire.TrustDomain.Name()), issuer.Options{})
	if _, err := r.Issuer.Registry().Create(context.Background(), registry.Agent{ID: "svid-bot", SPIFFEID: id.String(),
		Capabilities: []string{"search"}, AllowedGroups: []string{"engineering"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svid, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: r.URL, Subject: id}, workloadapi.WithAddr(spire.WorkloadAddr))
	if err != nil {
		t.Fatal(err)
	}
	bob := dex.IDToken(t, env.Bob)
	got := r.exchange(t, bob, nil, svid.Marshal())
	if got.Status != http.StatusOK || got.field(t, "token_type") != "Bearer" {
		t.Fatalf("exchange: %d %s", got.Status, got.Body)
	}
	if c := r.verifyAAT(t, got.field(t, "access_token")); c.Actor.Subject != id.String() {
		t.Fatalf("act.sub = %q, want %s", c.Actor.Subject, id)
	}

	// A JWT-SVID for another audience is refused.
	other, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "https://elsewhere", Subject: id}, workloadapi.WithAddr(spire.WorkloadAddr))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.exchange(t, bob, nil, other.Marshal()); got.Status != http.StatusUnauthorized || got.field(t, "error") != oauth.InvalidClient {
		t.Fatalf("wrong-audience svid: %d %s", got.Status, got.Body)
	}
}

// The Redis store backs the registry, revocations and DPoP jtis.
func TestRedisStore(t *testing.T) {
	dex, redis := env.Dex(t), env.Redis(t)
	prefix := fmt.Sprintf("t%d", time.Now().UnixNano())
	r := startIssuer(t, dexIDP(dex.Issuer, dex.ClientID)+fmt.Sprintf(
		"store: {type: redis, addrs: [%q], prefix: %q}\n", redis.Addr, prefix), issuer.Options{})
	key := nativeAgent(t, r, "redis-bot")
	bob := dex.IDToken(t, env.Bob)
	if got := r.exchange(t, bob, key, ""); got.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", got.Status, got.Body)
	}
	if ready := call(t, http.MethodGet, r.URL+"/readyz", nil, ""); ready.Status != http.StatusOK {
		t.Fatalf("readyz: %d %s", ready.Status, ready.Body)
	}
	redis.Stop(t)
	t.Cleanup(func() { redis.Start(t) })
	if got := r.exchange(t, bob, key, ""); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("redis stopped: %d %s", got.Status, got.Body)
	}
}
