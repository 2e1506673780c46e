package dpop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/jwk"
)

// Limits of verification.
const (
	DefaultMaxAge = time.Minute
	DefaultSkew   = 10 * time.Second
	// MaxWindow bounds MaxAge and Skew.
	MaxWindow    = 5 * time.Minute
	maxProofSize = 8 << 10
	maxJTILength = 256
)

// ErrInvalidProof is wrapped by every refusal of Verify (AIP token_error
// invalid_proof); the other sentinels name the reason.
var ErrInvalidProof = errors.New("invalid dpop proof")

// Reasons a proof is refused; each wraps ErrInvalidProof.
var (
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalidProof)
	ErrSignature = fmt.Errorf("%w: bad signature or algorithm", ErrInvalidProof)
	ErrKey       = fmt.Errorf("%w: key is not the token's key", ErrInvalidProof)
	ErrMethod    = fmt.Errorf("%w: htm mismatch", ErrInvalidProof)
	ErrURL       = fmt.Errorf("%w: htu mismatch", ErrInvalidProof)
	ErrIssuedAt  = fmt.Errorf("%w: iat outside the accepted window", ErrInvalidProof)
	ErrTokenHash = fmt.Errorf("%w: ath mismatch", ErrInvalidProof)
	ErrBodyHash  = fmt.Errorf("%w: aip_bh mismatch", ErrInvalidProof)
	ErrNonce     = fmt.Errorf("%w: nonce mismatch", ErrInvalidProof)
)

// Expect is what the verifier knows of the request a proof must be for.
type Expect struct {
	Method string // the request's method
	URL    string // the request's absolute URL; query and fragment ignored
	// AccessToken, when set, must be bound by ath.
	AccessToken string
	// Body, when non-nil, must be bound by aip_bh (nil: not checked).
	Body []byte
	// JKT is the thumbprint the proof key must have (the token's cnf.jkt).
	// Required: a proof is only ever checked against a bound key.
	JKT string
	// Nonce, when set, must equal the proof's nonce.
	Nonce string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAge is how old a proof may be; zero means DefaultMaxAge.
	MaxAge time.Duration
	// Skew is the clock skew allowed; zero means DefaultSkew.
	Skew time.Duration
}

// Claims is what a caller needs of an accepted proof.
type Claims struct {
	JTI      string
	IssuedAt time.Time
	JKT      string
	// ReplayTTL is how long to remember JTI (e.g. Redis SET NX EX): the
	// whole window in which a proof is accepted, MaxAge + 2×Skew, so that
	// verifiers whose clocks differ by up to Skew still catch a replay.
	ReplayTTL time.Duration
}

// Verify checks a DPoP proof against the request: size and compact form,
// typ dpop+jwt, alg EdDSA or ES256, an embedded public jwk of that
// algorithm whose RFC 7638 thumbprint is e.JKT (constant time), the
// signature, htm, htu, iat within [now-MaxAge-Skew, now+Skew], ath, aip_bh
// and nonce. It does not detect replays: the caller records Claims.JTI.
func Verify(proof string, e Expect) (Claims, error) {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.MaxAge == 0 {
		e.MaxAge = DefaultMaxAge
	}
	if e.Skew == 0 {
		e.Skew = DefaultSkew
	}
	if e.MaxAge < 0 || e.MaxAge > MaxWindow || e.Skew < 0 || e.Skew > MaxWindow {
		return Claims{}, fmt.Errorf("dpop: max age %s or skew %s outside (0, %s]", e.MaxAge, e.Skew, MaxWindow)
	}
	if e.JKT == "" {
		return Claims{}, fmt.Errorf("%w: no expected jkt (token not dpop-bound)", ErrKey)
	}
	if len(proof) > maxProofSize {
		return Claims{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxProofSize)
	}
	p, err := parseProof(proof)
	if err != nil {
		return Claims{}, err
	}
	if p.typ != Type {
		return Claims{}, fmt.Errorf("%w: typ %q, want %s", ErrMalformed, p.typ, Type)
	}
	if p.key == nil {
		return Claims{}, fmt.Errorf("%w: no public jwk in the header", ErrMalformed)
	}
	if err := jwk.CheckAlgorithm(p.alg, p.key); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	tp := p.thumbprint
	if !jwk.Equal(tp, e.JKT) {
		return Claims{}, ErrKey
	}
	if err := jwk.Verify(p.key, p.alg, p.signingInput, p.sig); err != nil {
		return Claims{}, ErrSignature
	}
	var c struct {
		JTI      string          `json:"jti"`
		HTM      string          `json:"htm"`
		HTU      string          `json:"htu"`
		IAT      jwt.NumericDate `json:"iat"`
		ATH      string          `json:"ath"`
		BodyHash string          `json:"aip_bh"`
		Nonce    string          `json:"nonce"`
	}
	if err := json.Unmarshal(p.payload, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if c.JTI == "" || len(c.JTI) > maxJTILength || c.HTM == "" || c.HTU == "" || c.IAT == 0 {
		return Claims{}, fmt.Errorf("%w: jti, htm, htu and iat are required", ErrMalformed)
	}
	if err := e.check(c.HTM, c.HTU, c.IAT.Time(), c.ATH, c.BodyHash, c.Nonce); err != nil {
		return Claims{}, err
	}
	return Claims{JTI: c.JTI, IssuedAt: c.IAT.Time(), JKT: tp, ReplayTTL: e.MaxAge + 2*e.Skew}, nil
}

func (e Expect) check(htm, htu string, iat time.Time, ath, bodyHash, nonce string) error {
	if htm != e.Method {
		return ErrMethod
	}
	// An htu that is the expected URL byte for byte is for that URL:
	// agents send it normalized, as verifiers configure it, so URLs are
	// parsed only when they differ.
	if htu != e.URL {
		want, err := normalizeHTU(e.URL)
		if err != nil {
			return fmt.Errorf("dpop: expected url: %w", err)
		}
		if got, err := normalizeHTU(htu); err != nil || got != want {
			return ErrURL
		}
	}
	now := e.Now()
	if iat.Before(now.Add(-e.MaxAge-e.Skew)) || iat.After(now.Add(e.Skew)) {
		return ErrIssuedAt
	}
	if e.AccessToken != "" && !hashIs(ath, sha256.Sum256([]byte(e.AccessToken))) {
		return ErrTokenHash
	}
	if e.Body != nil && !hashIs(bodyHash, sha256.Sum256(e.Body)) {
		return ErrBodyHash
	}
	if e.Nonce != "" && !jwk.Equal(nonce, e.Nonce) {
		return ErrNonce
	}
	return nil
}

// hashIs reports, in constant time, whether claim is the base64url form
// of sum (what jwk.HashB64 gives), without allocating.
func hashIs(claim string, sum [sha256.Size]byte) bool {
	var want [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	base64.RawURLEncoding.Encode(want[:], sum[:])
	if len(claim) != len(want) {
		return false
	}
	var v byte
	for i := range want {
		v |= claim[i] ^ want[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}
