package dpop

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aip-project/aip/identity/jwk"
)

// Type is the JWS typ header of a DPoP proof.
const Type = "dpop+jwt"

// Options describe the request a proof is for.
type Options struct {
	Method string // HTTP method (htm)
	URL    string // request URL; query and fragment are dropped (htu)
	// AccessToken, when set, is bound by its hash (ath).
	AccessToken string
	// Body, when non-nil, is bound by its hash (aip_bh). An empty non-nil
	// body is bound too: send []byte{} for an empty POST, nil for none.
	Body []byte
	// Nonce is a server-provided DPoP nonce, if any.
	Nonce string
	// Now is the clock for iat; nil means time.Now.
	Now func() time.Time
	// JTI is the proof's unique id; empty means 128 random bits.
	JTI string
}

// header and claims are the wire form of a proof.
type header struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

type claims struct {
	JTI      string `json:"jti"`
	HTM      string `json:"htm"`
	HTU      string `json:"htu"`
	IAT      int64  `json:"iat"`
	ATH      string `json:"ath,omitempty"`
	BodyHash string `json:"aip_bh,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
}

// Proof makes a DPoP proof for one request.
func Proof(k *Key, o Options) (string, error) {
	if k == nil {
		return "", errors.New("dpop proof: no key")
	}
	if o.Method == "" {
		return "", errors.New("dpop proof: method is required")
	}
	htu, err := normalizeHTU(o.URL)
	if err != nil {
		return "", fmt.Errorf("dpop proof: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	jti := o.JTI
	if jti == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("dpop proof: jti: %w", err)
		}
		jti = base64.RawURLEncoding.EncodeToString(b)
	}
	c := claims{JTI: jti, HTM: o.Method, HTU: htu, IAT: now().Unix(), Nonce: o.Nonce}
	if o.AccessToken != "" {
		c.ATH = jwk.HashB64([]byte(o.AccessToken))
	}
	if o.Body != nil {
		c.BodyHash = jwk.HashB64(o.Body)
	}
	h, err := json.Marshal(header{Typ: Type, Alg: k.alg, JWK: k.jwkJSON})
	if err != nil {
		return "", fmt.Errorf("dpop proof: header: %w", err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dpop proof: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.AppendEncode(nil, h)
	input = append(input, '.')
	input = enc.AppendEncode(input, p)
	sig, err := jwk.Sign(k.priv, input)
	if err != nil {
		return "", fmt.Errorf("dpop proof: %w", err)
	}
	input = append(input, '.')
	return string(enc.AppendEncode(input, sig)), nil
}
