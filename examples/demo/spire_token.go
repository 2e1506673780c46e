package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
)

// tokenRows shows the AAT the agent SDK obtained (from the recorded
// request; the token itself is never printed) and checks its signature
// against the public key of Vault's transit key, read from Vault: the
// issuer holds no signing key of its own.
func (s *spireAgent) tokenRows(ctx context.Context, f spireFlags) []row {
	const title = "AAT signed by Vault transit"
	s.a.rec.mu.Lock()
	req := s.a.rec.req
	s.a.rec.mu.Unlock()
	if req == nil {
		return []row{newRow(title, "signature ok", false, "no request was recorded")}
	}
	_, raw, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	say("the AAT the agent SDK sent (X509-SVID over mTLS + Bob's ID token, RFC 8693), checked against Vault's transit key %s", f.vaultKey)
	pub, version, err := transitPublicKey(ctx, f)
	if err != nil {
		return []row{newRow(title, "signature ok", false, err.Error())}
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return []row{newRow(title, "signature ok", false, "parse the AAT: "+err.Error())}
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return []row{newRow(title, "signature ok", false, fmt.Sprintf("not signed by transit key %s v%d: %v", f.vaultKey, version, err))}
	}
	var c aat.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return []row{newRow(title, "signature ok", false, "claims: "+err.Error())}
	}
	cnf := "none"
	if c.Confirmation != nil {
		cnf = fmt.Sprintf("x5t#S256 %v, jkt %v", c.Confirmation.X5TS256 != "", c.Confirmation.JKT != "")
	}
	fmt.Printf("   jti %s, kid %s, expires %s\n   sub %s (%s via %s, groups %v)\n   act.sub %s, agent %s\n   cnf: %s\n",
		c.ID, jws.Signatures[0].Header.KeyID, c.Expiry.Time().Format(time.TimeOnly), c.Subject, c.UserBinding.UserID,
		c.UserBinding.Issuer, c.UserBinding.Groups, c.Actor.Subject, c.Agent.ID, cnf)
	bound := c.Confirmation != nil && c.Confirmation.X5TS256 != ""
	return []row{
		newRow(title, "signature ok", true, fmt.Sprintf("EdDSA by transit key %s v%d (kid %s)", f.vaultKey, version, jws.Signatures[0].Header.KeyID)),
		newRow("AAT: Bob, via the agent", "sub, act, cnf", c.Actor.Subject == f.agentID && bound && c.UserBinding.UserID != "",
			fmt.Sprintf("user %s, act.sub %s, bound to the SVID (x5t#S256)", c.UserBinding.UserID, c.Actor.Subject)),
	}
}

// transitPublicKey reads the latest public key of the transit key from
// Vault.
func transitPublicKey(ctx context.Context, f spireFlags) (ed25519.PublicKey, int, error) {
	tok, err := os.ReadFile(f.vaultTokenFile) //nolint:gosec // the demo script's file
	if err != nil {
		return nil, 0, fmt.Errorf("vault token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.vault+"/v1/transit/keys/"+f.vaultKey, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("X-Vault-Token", strings.TrimSpace(string(tok)))
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("read transit key: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("read transit key: %s", resp.Status)
	}
	var k struct {
		Data struct {
			Type          string `json:"type"`
			LatestVersion int    `json:"latest_version"`
			Keys          map[string]struct {
				PublicKey string `json:"public_key"`
			} `json:"keys"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &k); err != nil {
		return nil, 0, fmt.Errorf("transit key: %w", err)
	}
	if k.Data.Type != "ed25519" {
		return nil, 0, fmt.Errorf("transit key %s is %s, not ed25519", f.vaultKey, k.Data.Type)
	}
	b, err := base64.StdEncoding.DecodeString(k.Data.Keys[strconv.Itoa(k.Data.LatestVersion)].PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, 0, fmt.Errorf("transit key %s v%d: no ed25519 public key", f.vaultKey, k.Data.LatestVersion)
	}
	return ed25519.PublicKey(b), k.Data.LatestVersion, nil
}
