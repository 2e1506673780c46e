package aat

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/aip-project/aip/identity/jwk"
)

// CheckX5T checks that the token is bound (cnf x5t#S256, RFC 8705) to the
// mTLS peer certificate: base64url SHA-256 of its DER, compared in
// constant time.
func CheckX5T(c *Claims, peer *x509.Certificate) error {
	if c == nil || c.Confirmation == nil || c.Confirmation.X5TS256 == "" {
		return fmt.Errorf("%w: token has no cnf x5t#S256", ErrBinding)
	}
	if peer == nil {
		return fmt.Errorf("%w: no peer certificate", ErrBinding)
	}
	if !jwk.Equal(c.Confirmation.X5TS256, jwk.HashB64(peer.Raw)) {
		return fmt.Errorf("%w: peer certificate is not the one in cnf", ErrBinding)
	}
	return nil
}

// CheckJKT checks that the token is bound (cnf jkt, RFC 9449) to the key
// pub: its RFC 7638 thumbprint, compared in constant time.
func CheckJKT(c *Claims, pub crypto.PublicKey) error {
	if c == nil || c.Confirmation == nil || c.Confirmation.JKT == "" {
		return fmt.Errorf("%w: token has no cnf jkt", ErrBinding)
	}
	tp, err := jwk.Thumbprint(pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBinding, err)
	}
	if !jwk.Equal(c.Confirmation.JKT, tp) {
		return fmt.Errorf("%w: key is not the one in cnf", ErrBinding)
	}
	return nil
}
