package registry_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"

	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/registry/registrytest"
	"github.com/aip-project/aip/issuer/signer"
)

var aidNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func aidAgent() *registry.Agent {
	return &registry.Agent{
		ID: "bot-1", SPIFFEID: "spiffe://example.org/agent/bot-1", PublicKey: registrytest.EdPublic("bot-1"),
		Name: "Bot One", Owner: "team-a", Capabilities: []string{"search", "read_file"},
		AllowedUsers: []string{"alice"}, Status: registry.StatusActive,
	}
}

func mustSignAID(t *testing.T, s signer.Signer) []byte {
	t.Helper()
	doc, err := registry.SignAID(context.Background(), s, aidAgent(), aidNow, time.Hour)
	if err != nil {
		t.Fatalf("SignAID: %v", err)
	}
	return doc
}

func TestAIDRoundTrip(t *testing.T) {
	for _, s := range []*testSigner{newEdSigner(t, "ed-1"), newP256Signer(t, "ec-1")} {
		t.Run(s.alg, func(t *testing.T) {
			doc := mustSignAID(t, s)
			if canon, err := jcs.Transform(doc); err != nil || string(canon) != string(doc) {
				t.Errorf("document is not in canonical form")
			}
			if strings.Contains(string(doc), "allowed_users") || strings.Contains(string(doc), "owner") {
				t.Errorf("AID carries fields it should not: %s", doc)
			}
			aid, err := registry.VerifyAID(doc, s.jwks(), aidNow.Add(30*time.Minute))
			if err != nil {
				t.Fatalf("VerifyAID: %v", err)
			}
			want, _ := registry.Thumbprint(registrytest.EdPublic("bot-1"))
			got, _ := registry.Thumbprint(aid.PublicKey)
			if aid.Version != registry.AIDVersion || aid.AgentID != "bot-1" || aid.Status != registry.StatusActive ||
				aid.SPIFFEID != "spiffe://example.org/agent/bot-1" || aid.Name != "Bot One" ||
				fmt.Sprint(aid.Capabilities) != "[search read_file]" || got != want ||
				aid.IssuedAt != aidNow.Unix() || aid.ExpiresAt != aidNow.Add(time.Hour).Unix() {
				t.Fatalf("verified AID = %+v", aid)
			}
		})
	}
}

// resign replaces the document's fields with edit(fields) and signs the
// result's canonical form under header with s.
func resign(t *testing.T, doc []byte, s *testSigner, header string, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "registry_signature")
	edit(m)
	raw, _ := json.Marshal(m)
	payload, err := jcs.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	m["registry_signature"] = s.compact(header, payload)
	out, _ := json.Marshal(m)
	return out
}

func withoutSignature(t *testing.T, doc []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "registry_signature")
	out, _ := json.Marshal(m)
	return out
}

func TestVerifyAIDRefusals(t *testing.T) {
	s := newEdSigner(t, "ed-1")
	other := newEdSigner(t, "ed-1") // same kid, another key
	doc := mustSignAID(t, s)
	hdr := `{"alg":"EdDSA","kid":"ed-1","typ":"aid+jws"}`
	edit := func(f func(map[string]any)) []byte { return resign(t, doc, s, hdr, f) }
	noop := func(map[string]any) {}
	replace := func(old, new string) []byte { return []byte(strings.Replace(string(doc), old, new, 1)) }

	tests := []struct {
		name string
		doc  []byte
		jwks jose.JSONWebKeySet
		now  time.Time
		err  error
	}{
		{"valid control", doc, s.jwks(), aidNow, nil},
		{"valid just before expiry", doc, s.jwks(), aidNow.Add(time.Hour - time.Second), nil},
		{"expired", doc, s.jwks(), aidNow.Add(time.Hour), registry.ErrExpiredAID},
		{"not yet valid", doc, s.jwks(), aidNow.Add(-2 * time.Minute), registry.ErrExpiredAID},
		{"capability added outside the signature", replace(`"read_file"`, `"read_file","rm"`), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"status changed outside the signature", replace(`"active"`, `"revoked"`), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"field removed outside the signature", replace(`"name":"Bot One",`, ``), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"duplicate member", replace(`"status":"active"`, `"status":"active","status":"revoked"`), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"missing signature", withoutSignature(t, doc), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"signature not a string", replace(`"registry_signature":"`, `"registry_signature":1,"x":"`), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"other key same kid", resign(t, doc, other, hdr, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"unknown kid", doc, newEdSigner(t, "ed-2").jwks(), aidNow, registry.ErrInvalidAID},
		{"empty jwks", doc, jose.JSONWebKeySet{}, aidNow, registry.ErrInvalidAID},
		{"wrong typ", resign(t, doc, s, `{"alg":"EdDSA","kid":"ed-1","typ":"JWT"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"no typ", resign(t, doc, s, `{"alg":"EdDSA","kid":"ed-1"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"no kid", resign(t, doc, s, `{"alg":"EdDSA","typ":"aid+jws"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"b64 false header", resign(t, doc, s, `{"alg":"EdDSA","kid":"ed-1","typ":"aid+jws","b64":false,"crit":["b64"]}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"alg none", resign(t, doc, s, `{"alg":"none","kid":"ed-1","typ":"aid+jws"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"alg HS256", resign(t, doc, s, `{"alg":"HS256","kid":"ed-1","typ":"aid+jws"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"alg differs from jwks key", resign(t, doc, s, `{"alg":"ES256","kid":"ed-1","typ":"aid+jws"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"duplicate header member", resign(t, doc, s, `{"alg":"EdDSA","kid":"ed-1","typ":"aid+jws","typ":"aid+jws"}`, noop), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"unknown aid_version", edit(func(m map[string]any) { m["aid_version"] = "2" }), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"unknown field", edit(func(m map[string]any) { m["admin"] = true }), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"expires before issued", edit(func(m map[string]any) { m["expires_at"] = aidNow.Unix() - 1 }), s.jwks(), aidNow.Add(-2 * time.Hour), registry.ErrInvalidAID},
		{"no identity", edit(func(m map[string]any) { delete(m, "spiffe_id"); delete(m, "public_key") }), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"invalid agent id", edit(func(m map[string]any) { m["agent_id"] = "../x" }), s.jwks(), aidNow, registry.ErrInvalidAID},
		{"re-signed valid edit", edit(func(m map[string]any) { m["name"] = "Renamed" }), s.jwks(), aidNow, nil},
		{"too large", append(doc, make([]byte, registry.MaxAIDSize)...), s.jwks(), aidNow, registry.ErrInvalidAID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.VerifyAID(tt.doc, tt.jwks, tt.now)
			t.Logf("VerifyAID: %v", err)
			if tt.err == nil && err != nil {
				t.Fatalf("VerifyAID: %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("VerifyAID = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestVerifyAIDBadFiles(t *testing.T) {
	s := newEdSigner(t, "ed-1")
	files, _ := filepath.Glob("testdata/bad-aid/*")
	if len(files) == 0 {
		t.Fatal("no testdata/bad-aid files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := registry.VerifyAID(doc, s.jwks(), aidNow); !errors.Is(err, registry.ErrInvalidAID) {
				t.Fatalf("VerifyAID = %v, want ErrInvalidAID", err)
			}
		})
	}
}

func TestSignAIDErrors(t *testing.T) {
	ctx := context.Background()
	down := newEdSigner(t, "ed-1")
	down.err = fmt.Errorf("vault: %w", signer.ErrUnavailable)
	rsaAlg := newEdSigner(t, "ed-1")
	rsaAlg.alg = "RS256"
	noKid := newEdSigner(t, "")
	invalid := aidAgent()
	invalid.SPIFFEID, invalid.PublicKey = "", nil
	tests := []struct {
		name  string
		s     signer.Signer
		agent *registry.Agent
		ttl   time.Duration
		err   error
	}{
		{"signer unavailable", down, aidAgent(), time.Hour, signer.ErrUnavailable},
		{"algorithm not allowed", rsaAlg, aidAgent(), time.Hour, nil},
		{"no kid", noKid, aidAgent(), time.Hour, nil},
		{"zero ttl", newEdSigner(t, "ed-1"), aidAgent(), 0, nil},
		{"invalid agent", newEdSigner(t, "ed-1"), invalid, time.Hour, registry.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := registry.SignAID(ctx, tt.s, tt.agent, aidNow, tt.ttl)
			if err == nil {
				t.Fatalf("SignAID succeeded: %s", doc)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("SignAID = %v, want %v", err, tt.err)
			}
		})
	}
}

func FuzzVerifyAID(f *testing.F) {
	s := &testSigner{kid: "ed-1", alg: signer.EdDSA, priv: registrytest.EdKey("fuzz").Key.(ed25519.PrivateKey)}
	doc, err := registry.SignAID(context.Background(), s, aidAgent(), aidNow, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	files, _ := filepath.Glob("testdata/bad-aid/*")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	jwks := s.jwks()
	f.Fuzz(func(t *testing.T, doc []byte) {
		aid, err := registry.VerifyAID(doc, jwks, aidNow)
		if err != nil {
			if !errors.Is(err, registry.ErrInvalidAID) && !errors.Is(err, registry.ErrExpiredAID) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		// Whatever verifies is exactly what the registry signed.
		if aid.AgentID != "bot-1" || aid.Status != registry.StatusActive {
			t.Fatalf("verified a document the registry never signed: %+v", aid)
		}
	})
}
