package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxAIDSize bounds the documents VerifyAID reads.
const MaxAIDSize = 64 << 10

// aidSkew is the clock skew tolerated on issued_at.
const aidSkew = time.Minute

// VerifyAID checks a signed AID offline against the registry's JWKS and
// returns it. It checks, in order: the size and strict JSON syntax (no
// duplicate keys), the JWS header (only alg, kid and typ "aid+jws"; alg
// EdDSA or ES256), the signature with the JWKS key named by kid, that the
// signed payload equals the canonical document, the fields, and that now
// is within [issued_at - 1m, expires_at). The caller still checks Status.
func VerifyAID(doc []byte, jwks jose.JSONWebKeySet, now time.Time) (*AID, error) {
	if len(doc) > MaxAIDSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidAID, MaxAIDSize)
	}
	if err := checkStrictJSON(doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAID, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAID, err)
	}
	var sig string
	if err := json.Unmarshal(fields["registry_signature"], &sig); err != nil || sig == "" {
		return nil, fmt.Errorf("%w: registry_signature: missing or not a string", ErrInvalidAID)
	}
	delete(fields, "registry_signature")
	unsigned, err := canonical(fields)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAID, err)
	}
	payload, err := verifyCompact(sig, jwks)
	if err != nil {
		return nil, fmt.Errorf("%w: registry_signature: %w", ErrInvalidAID, err)
	}
	if !bytes.Equal(payload, unsigned) {
		return nil, fmt.Errorf("%w: document differs from its signed payload", ErrInvalidAID)
	}
	aid, err := decodeAID(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAID, err)
	}
	if n := now.Unix(); n >= aid.ExpiresAt || time.Unix(aid.IssuedAt, 0).After(now.Add(aidSkew)) {
		return nil, fmt.Errorf("%w: valid from %d to %d, now %d", ErrExpiredAID, aid.IssuedAt, aid.ExpiresAt, n)
	}
	return aid, nil
}

// verifyCompact checks a compact JWS and returns its payload.
func verifyCompact(sig string, jwks jose.JSONWebKeySet) ([]byte, error) {
	head, _, ok := strings.Cut(sig, ".")
	if !ok {
		return nil, fmt.Errorf("not a compact jws")
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := checkStrictJSON(rawHeader); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var h map[string]any
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	for k := range h {
		if k != "alg" && k != "kid" && k != "typ" {
			return nil, fmt.Errorf("header parameter %q not allowed", k)
		}
	}
	if h["typ"] != AIDType {
		return nil, fmt.Errorf("typ %v, want %s", h["typ"], AIDType)
	}
	kid, _ := h["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("no kid")
	}
	jws, err := jose.ParseSignedCompact(sig, allowedAlgs)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	keys := jwks.Key(kid)
	if len(keys) != 1 {
		return nil, fmt.Errorf("kid %q: %d keys in the jwks, want exactly 1", kid, len(keys))
	}
	key := keys[0]
	alg := jws.Signatures[0].Protected.Algorithm
	if !key.IsPublic() || (key.Algorithm != "" && key.Algorithm != alg) || (key.Use != "" && key.Use != "sig") {
		return nil, fmt.Errorf("kid %q: key not usable for %s", kid, alg)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("kid %q: %w", kid, err)
	}
	return payload, nil
}

// decodeAID decodes and checks the fields of a signed payload.
func decodeAID(payload []byte) (*AID, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var aid AID
	if err := dec.Decode(&aid); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if aid.Version != AIDVersion {
		return nil, fmt.Errorf("aid_version %q not supported (want %q)", aid.Version, AIDVersion)
	}
	if aid.ExpiresAt <= aid.IssuedAt {
		return nil, fmt.Errorf("expires_at not after issued_at")
	}
	if aid.Capabilities == nil {
		return nil, fmt.Errorf("capabilities: missing")
	}
	a := Agent{ID: aid.AgentID, SPIFFEID: aid.SPIFFEID, PublicKey: aid.PublicKey, Name: aid.Name,
		Capabilities: slices.Clone(aid.Capabilities), Status: aid.Status}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &aid, nil
}
