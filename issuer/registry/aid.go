package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gowebpki/jcs"

	"github.com/aip-project/aip/issuer/signer"
)

// AIDVersion is the aid_version this package writes and accepts.
const AIDVersion = "1"

// AIDType is the JWS "typ" header of a registry_signature.
const AIDType = "aid+jws"

// Errors about Agent Identity Documents.
var (
	// ErrInvalidAID means a document is malformed, its signature does not
	// verify, or the signed payload differs from the document.
	ErrInvalidAID = errors.New("invalid agent identity document")
	// ErrExpiredAID means a document verified but is outside its validity.
	ErrExpiredAID = errors.New("agent identity document expired")
)

// AID is an Agent Identity Document: what the registry asserts about one
// agent, valid from IssuedAt to ExpiresAt (Unix seconds).
//
// On the wire an AID is the RFC 8785 canonical JSON of these fields plus
// "registry_signature": a compact JWS (header {alg, kid, typ: "aid+jws"})
// whose attached payload is the canonical JSON of the document without
// registry_signature. A verifier recomputes that canonical form and
// requires it to equal the signed payload byte for byte, so the readable
// document and the signed one cannot diverge.
type AID struct {
	Version      string           `json:"aid_version"`
	AgentID      string           `json:"agent_id"`
	Name         string           `json:"name,omitempty"`
	SPIFFEID     string           `json:"spiffe_id,omitempty"`
	PublicKey    *jose.JSONWebKey `json:"public_key,omitempty"`
	Capabilities []string         `json:"capabilities"`
	Status       Status           `json:"status"`
	IssuedAt     int64            `json:"issued_at"`
	ExpiresAt    int64            `json:"expires_at"`
}

// signedAID is the wire form: the AID and its signature.
type signedAID struct {
	AID
	Signature string `json:"registry_signature"`
}

// allowedAlgs is the signature algorithm allowlist for AIDs.
var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// SignAID returns the signed AID of agent a, issued at now and valid for
// ttl, signed with s's current key. The status is included as is: a
// relying party must check AID.Status itself.
func SignAID(ctx context.Context, s signer.Signer, a *Agent, now time.Time, ttl time.Duration) ([]byte, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("sign aid: ttl %v: must be positive", ttl)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("sign aid: %w", err)
	}
	doc := AID{
		Version:      AIDVersion,
		AgentID:      a.ID,
		Name:         a.Name,
		SPIFFEID:     a.SPIFFEID,
		PublicKey:    a.PublicKey,
		Capabilities: slices.Clone(a.Capabilities),
		Status:       a.Status,
		IssuedAt:     now.Unix(),
		ExpiresAt:    now.Add(ttl).Unix(),
	}
	if doc.Capabilities == nil {
		doc.Capabilities = []string{}
	}
	payload, err := canonical(doc)
	if err != nil {
		return nil, fmt.Errorf("sign aid %q: %w", a.ID, err)
	}
	sig, err := signCompact(ctx, s, payload)
	if err != nil {
		return nil, fmt.Errorf("sign aid %q: %w", a.ID, err)
	}
	out, err := canonical(signedAID{AID: doc, Signature: sig})
	if err != nil {
		return nil, fmt.Errorf("sign aid %q: %w", a.ID, err)
	}
	return out, nil
}

// signCompact builds a compact JWS of payload with s's current key.
func signCompact(ctx context.Context, s signer.Signer, payload []byte) (string, error) {
	key, err := s.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("current signing key: %w", err)
	}
	if !slices.Contains(allowedAlgs, jose.SignatureAlgorithm(key.Algorithm)) {
		return "", fmt.Errorf("signing key %q: algorithm %q not allowed for AIDs", key.ID, key.Algorithm)
	}
	if key.ID == "" {
		return "", errors.New("signing key has no kid")
	}
	header, err := json.Marshal(map[string]string{"alg": key.Algorithm, "kid": key.ID, "typ": AIDType})
	if err != nil {
		return "", fmt.Errorf("encode jws header: %w", err)
	}
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := s.Sign(ctx, key.ID, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign with key %q: %w", key.ID, err)
	}
	if len(sig) != 64 { // Ed25519, and r||s for P-256
		return "", fmt.Errorf("signer returned a %d-byte signature for %s, want 64", len(sig), key.Algorithm)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// canonical returns the RFC 8785 canonical JSON of v.
func canonical(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalize: %w", err)
	}
	return out, nil
}
