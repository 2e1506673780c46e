package aat

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/jwk"
)

// Lifetimes of minted tokens.
const (
	DefaultLifetime = 5 * time.Minute
	// MaxLifetime is the hard cap: no AAT is ever minted or accepted with
	// exp - iat above it.
	MaxLifetime = time.Hour
)

// ErrLifetime means the claims ask for a lifetime above the cap.
var ErrLifetime = errors.New("token lifetime above the maximum")

// Minter signs AATs. The zero value of each field but Signer has a default.
type Minter struct {
	Signer jwk.Signer
	// MaxLifetime caps exp - iat; zero or anything above MaxLifetime means
	// MaxLifetime.
	MaxLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand draws jtis; nil means crypto/rand.
	Rand io.Reader
}

// Mint signs c with s using the defaults of Minter.
func Mint(ctx context.Context, s jwk.Signer, c Claims) (string, error) {
	return Minter{Signer: s}.Mint(ctx, c)
}

// Mint fills what c leaves empty (iat = now, nbf = iat, exp = iat + 5 min,
// a random 128-bit jti, aat_version), checks the required claims and the
// lifetime cap, and signs.
func (m Minter) Mint(ctx context.Context, c Claims) (string, error) {
	if m.Signer == nil {
		return "", errors.New("mint aat: no signer")
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	maxLife := m.MaxLifetime
	if maxLife <= 0 || maxLife > MaxLifetime {
		maxLife = MaxLifetime
	}
	if c.IssuedAt == 0 {
		c.IssuedAt = jwt.NumericDate(now().Unix())
	}
	if c.NotBefore == 0 {
		c.NotBefore = c.IssuedAt
	}
	if c.Expiry == 0 {
		c.Expiry = c.IssuedAt + jwt.NumericDate(DefaultLifetime/time.Second)
	}
	if c.ID == "" {
		jti, err := randomID(m.Rand)
		if err != nil {
			return "", fmt.Errorf("mint aat: %w", err)
		}
		c.ID = jti
	}
	if c.Version == "" {
		c.Version = Version
	}
	if name := c.missing(); name != "" {
		return "", fmt.Errorf("mint aat: claim %s is required", name)
	}
	life := time.Duration(c.Expiry-c.IssuedAt) * time.Second
	if life <= 0 {
		return "", fmt.Errorf("mint aat: exp not after iat")
	}
	if life > maxLife {
		return "", fmt.Errorf("mint aat: %w: %s > %s", ErrLifetime, life, maxLife)
	}
	token, err := jwk.SignJWS(ctx, m.Signer, Type, c)
	if err != nil {
		return "", fmt.Errorf("mint aat %s: %w", c.ID, err)
	}
	return token, nil
}

func randomID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
