package agent

import (
	"testing"

	"github.com/aip-project/aip/issuer/token"
)

// The request values are the issuer's, without importing the issuer into
// agents.
func TestWireValuesMatchIssuer(t *testing.T) {
	pairs := [][2]string{
		{grantTypeTokenExchange, token.GrantTypeTokenExchange},
		{tokenTypeIDToken, token.TokenTypeIDToken},
		{tokenTypeJWT, token.TokenTypeJWT},
		{tokenTypeLocalUser, token.TokenTypeLocalUser},
		{tokenTypeBinding, token.TokenTypeBinding},
		{TypeDPoP, token.TypeDPoP},
		{TypeBearer, token.TypeBearer},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("%q here, %q in issuer/token", p[0], p[1])
		}
	}
}
