package sidecar

import (
	"net/http"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

func TestChallengeScheme(t *testing.T) {
	const md = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
	tests := []struct {
		name string
		ch   challenge
		code codes.Code
		want string
	}{
		{"proof required, no token", challenge{md, true}, codes.TokenRequired,
			`DPoP algs="EdDSA ES256", resource_metadata="` + md + `"`},
		{"proof required, bad token", challenge{md, true}, codes.TokenInvalid,
			`DPoP algs="EdDSA ES256", resource_metadata="` + md + `", error="invalid_token"`},
		{"no proof required (mTLS)", challenge{md, false}, codes.TokenRequired,
			`Bearer resource_metadata="` + md + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			(&denial{status: http.StatusUnauthorized, code: tt.code}).headers(h, tt.ch)
			if got := h.Get("WWW-Authenticate"); got != tt.want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want)
			}
		})
	}
}
