package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aip-project/aip/identity/jwk"
)

// A proof is parsed here rather than by a general JOSE library: it has one
// shape (compact JWS, one signature, the key in the header) and is parsed
// on every request, so this does only what that shape needs, with a
// fraction of the allocations. What a general parser would refuse is
// refused too: anything but three base64url parts, a header that is not a
// JSON object, crit and b64 (no extension is understood), an algorithm
// outside the allowlist, a key that is not an Ed25519 or P-256 public key.

// rawProof is a proof split into what Verify checks.
type rawProof struct {
	alg, typ     string
	key          crypto.PublicKey
	thumbprint   string // RFC 7638, of key
	signingInput []byte // header.payload, as sent
	payload      []byte
	sig          []byte
}

// proofHeader is the JOSE header of a proof. Crit and B64 are only read
// to refuse them.
type proofHeader struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  *headerJWK      `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
}

// headerJWK holds the members of a public Ed25519 (OKP) or P-256 (EC) JWK;
// D is only read to refuse a private key. Other members are ignored.
type headerJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

var b64url = base64.RawURLEncoding.Strict()

// parseProof splits and decodes a compact proof. Refusals wrap
// ErrMalformed, or ErrSignature for an algorithm or key type outside the
// allowlist; the signature is not checked here.
func parseProof(proof string) (rawProof, error) {
	h64, rest, ok1 := strings.Cut(proof, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") || h64 == "" || p64 == "" {
		return rawProof{}, fmt.Errorf("%w: not a compact JWS with one signature", ErrMalformed)
	}
	// One copy of the proof and one buffer for the three decoded parts.
	raw := []byte(proof)
	n := len(h64) + 1 + len(p64)
	buf := make([]byte, 0, b64url.DecodedLen(len(h64))+b64url.DecodedLen(len(p64))+b64url.DecodedLen(len(s64)))
	p := rawProof{signingInput: raw[:n]}
	hb, err := b64url.AppendDecode(buf, raw[:len(h64)])
	if err != nil {
		return rawProof{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if p.payload, err = b64url.AppendDecode(hb[len(hb):], raw[len(h64)+1:n]); err != nil {
		return rawProof{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	if p.sig, err = b64url.AppendDecode(p.payload[len(p.payload):], raw[n+1:]); err != nil {
		return rawProof{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	var h proofHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return rawProof{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if h.Crit != nil || h.B64 != nil {
		return rawProof{}, fmt.Errorf("%w: crit and b64 are not supported", ErrMalformed)
	}
	if h.Alg != jwk.EdDSA && h.Alg != jwk.ES256 {
		return rawProof{}, fmt.Errorf("%w: algorithm %q not allowed", ErrSignature, h.Alg)
	}
	p.alg, p.typ = h.Alg, h.Typ
	if h.JWK == nil {
		return p, nil // Verify refuses a proof without a key, after typ
	}
	if p.key, err = h.JWK.publicKey(); err != nil {
		return rawProof{}, err
	}
	p.thumbprint = h.JWK.thumbprint()
	return p, nil
}

// thumbprint is the RFC 7638 thumbprint of k once publicKey accepted it:
// the required members in lexical order. x and y are used as sent, which
// is their canonical form: they decoded strictly to exactly the key's size
// (jwk.Thumbprint of the decoded key gives the same value).
func (k *headerJWK) thumbprint() string {
	buf := make([]byte, 0, 160)
	if k.Kty == "OKP" {
		buf = append(append(append(buf, `{"crv":"Ed25519","kty":"OKP","x":"`...), k.X...), `"}`...)
	} else {
		buf = append(append(append(buf, `{"crv":"P-256","kty":"EC","x":"`...), k.X...), `","y":"`...)
		buf = append(append(buf, k.Y...), `"}`...)
	}
	sum := sha256.Sum256(buf)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// publicKey decodes k: an Ed25519 key (kty OKP, crv Ed25519, x of 32
// bytes) or a P-256 point on the curve (kty EC, crv P-256, x and y of 32
// bytes). A private key is malformed; another key type is not allowed.
func (k *headerJWK) publicKey() (crypto.PublicKey, error) {
	if k.D != "" {
		return nil, fmt.Errorf("%w: the jwk is a private key", ErrMalformed)
	}
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		x, err := b64url.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize || k.Y != "" {
			return nil, fmt.Errorf("%w: bad Ed25519 jwk", ErrMalformed)
		}
		return ed25519.PublicKey(x), nil
	case k.Kty == "EC" && k.Crv == "P-256":
		x, errX := b64url.DecodeString(k.X)
		y, errY := b64url.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("%w: bad P-256 jwk", ErrMalformed)
		}
		point := make([]byte, 0, 65)
		point = append(append(append(point, 4), x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return nil, fmt.Errorf("%w: P-256 jwk: %w", ErrMalformed, err)
		}
		return pub, nil
	case k.Kty == "OKP" || k.Kty == "EC" || k.Kty == "RSA" || k.Kty == "oct":
		return nil, fmt.Errorf("%w: jwk kty %q crv %q not allowed", ErrSignature, k.Kty, k.Crv)
	}
	return nil, fmt.Errorf("%w: jwk kty %q", ErrMalformed, k.Kty)
}
