package integration

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/redis/go-redis/v9"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/test/env"
)

// TestEnvironment proves every real component the suite depends on works
// as the code under test will use it.
func TestEnvironment(t *testing.T) {
	t.Run("spire issues X509 and JWT SVIDs", testSPIRE)
	t.Run("vault transit signs with ed25519", testVaultTransit)
	t.Run("dex issues verifiable id tokens", testDex)
	t.Run("redis set nx with ttl", testRedis)
	t.Run("mcp filesystem server lists tools", testMCPFilesystem)
}

func testSPIRE(t *testing.T) {
	s := env.SPIREServer(t)
	id := spiffeid.RequireFromPath(s.TrustDomain, "/agent/env-test")
	start := time.Now()
	s.CreateEntry(t, id)
	t.Logf("entry reached the workload in %v", time.Since(start))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(s.WorkloadAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	svids, err := client.FetchX509SVIDs(ctx)
	if err != nil {
		t.Fatalf("fetch X509-SVIDs: %v", err)
	}
	i := slices.IndexFunc(svids, func(s *x509svid.SVID) bool { return s.ID == id })
	if i < 0 {
		t.Fatalf("no X509-SVID for %s", id)
	}
	bundles, err := client.FetchX509Bundles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := bundles.GetX509BundleForTrustDomain(s.TrustDomain)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := x509svid.Verify(svids[i].Certificates, bundle); err != nil {
		t.Fatalf("X509-SVID does not verify against the trust bundle: %v", err)
	}

	jwt, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: "aip-issuer", Subject: id})
	if err != nil {
		t.Fatalf("fetch JWT-SVID: %v", err)
	}
	jwtBundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwtsvid.ParseAndValidate(jwt.Marshal(), jwtBundles, []string{"aip-issuer"})
	if err != nil {
		t.Fatalf("JWT-SVID does not validate: %v", err)
	}
	if parsed.ID != id {
		t.Fatalf("JWT-SVID subject = %s, want %s", parsed.ID, id)
	}
}

func testVaultTransit(t *testing.T) {
	v := env.Vault(t)
	c := v.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	msg := []byte("header.payload")
	sec, err := c.Logical().WriteWithContext(ctx, "transit/sign/"+v.TransitKey, map[string]any{
		"input": base64.StdEncoding.EncodeToString(msg),
	})
	if err != nil {
		t.Fatalf("transit sign: %v", err)
	}
	sigField, _ := sec.Data["signature"].(string)
	parts := strings.Split(sigField, ":")
	if len(parts) != 3 || parts[0] != "vault" {
		t.Fatalf("unexpected signature format %q", sigField)
	}
	sig, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}

	key, err := c.Logical().ReadWithContext(ctx, "transit/keys/"+v.TransitKey)
	if err != nil {
		t.Fatal(err)
	}
	if exportable, _ := key.Data["exportable"].(bool); exportable {
		t.Fatal("transit key is exportable; it must never be")
	}
	keys, _ := key.Data["keys"].(map[string]any)
	v1, _ := keys["1"].(map[string]any)
	pubB64, _ := v1["public_key"].(string)
	pub, err := base64.StdEncoding.DecodeString(pubB64)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("bad public key %q: %v", pubB64, err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		t.Fatal("vault ed25519 signature does not verify with crypto/ed25519")
	}
	if ed25519.Verify(pub, []byte("header.payloaD"), sig) {
		t.Fatal("signature verified over a different message")
	}
}

func testDex(t *testing.T) {
	d := env.Dex(t)
	raw := d.IDToken(t, env.Alice)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, d.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: d.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != env.Alice.Username {
		t.Errorf("email = %q, want %q", claims.Email, env.Alice.Username)
	}
	if !slices.Contains(claims.Groups, "aip-admins") {
		t.Errorf("groups = %v, want aip-admins among them", claims.Groups)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, raw); err == nil {
		t.Error("token verified for another audience")
	}
}

func testRedis(t *testing.T) {
	r := env.Redis(t)
	c := r.Client(t)
	ctx := context.Background()
	key := "env-test:" + time.Now().Format(time.RFC3339Nano)
	ok, err := c.SetNX(ctx, key, "1", 2*time.Second).Result()
	if err != nil || !ok {
		t.Fatalf("first SET NX = %v, %v; want true", ok, err)
	}
	ok, err = c.SetNX(ctx, key, "2", 2*time.Second).Result()
	if err != nil || ok {
		t.Fatalf("second SET NX = %v, %v; want false (replay refused)", ok, err)
	}
	ttl, err := c.TTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Second {
		t.Fatalf("TTL = %v, %v", ttl, err)
	}
	if _, err := c.Get(ctx, "missing:"+key).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing = %v, want redis.Nil", err)
	}
}

func testMCPFilesystem(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello from aip"), 0o600); err != nil {
		t.Fatal(err)
	}
	argv := env.MCPServerCommand(t, env.MCPFilesystem, root)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "aip-env-test", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: exec.Command(argv[0], argv[1:]...)}, nil)
	if err != nil {
		t.Fatalf("connect to server-filesystem: %v", err)
	}
	defer session.Close()
	res, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"read_text_file", "write_file", "list_directory"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %q (got %v)", want, names)
		}
	}
	call, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": filepath.Join(root, "hello.txt")}})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	text, _ := call.Content[0].(*mcp.TextContent)
	if call.IsError || text == nil || !strings.Contains(text.Text, "hello from aip") {
		t.Fatalf("read_text_file returned %+v", call.Content)
	}
}
