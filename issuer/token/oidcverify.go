package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// signingAlgs are the algorithms accepted on ID tokens and CI tokens
// (GitHub and GitLab sign with RS256): asymmetric only.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.EdDSA}

// discoveryTimeout bounds the OIDC discovery of an issuer.
const discoveryTimeout = 5 * time.Second

// discoverVerifier finds iss's keys by OIDC discovery and returns a
// verifier for its tokens. Discovery and key fetches outlive the request
// that asks: they use base, the verifier's own context (with its HTTP
// client), discovery bounded by discoveryTimeout.
func discoverVerifier(base context.Context, iss string, oc *oidc.Config) (*oidc.IDTokenVerifier, error) {
	dctx, cancel := context.WithTimeout(base, discoveryTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(dctx, iss)
	if err != nil {
		return nil, err
	}
	return provider.VerifierContext(base, oc), nil
}

// verifyToken checks raw with vf. A refusal wraps ErrSubjectToken; an
// expired token is said to be expired, without go-oidc's details.
func verifyToken(ctx context.Context, vf *oidc.IDTokenVerifier, raw string) (*oidc.IDToken, error) {
	tok, err := vf.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, fmt.Errorf("%w: expired", ErrSubjectToken)
		}
		return nil, fmt.Errorf("%w: %w", ErrSubjectToken, err)
	}
	return tok, nil
}
