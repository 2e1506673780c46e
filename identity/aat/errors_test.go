package aat_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

func TestVerifyKeysUnavailable(t *testing.T) {
	s := localSigner(t, jwk.EdDSA)
	down := aat.SignerKeys{Signer: failing{}}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{testIssuer: down}, Audience: testAudience, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), mint(t, s, nil))
	if !errors.Is(err, aat.ErrKeysUnavailable) || errors.Is(err, aat.ErrSignature) {
		t.Fatalf("err = %v, want ErrKeysUnavailable only", err)
	}
	if te := aat.TokenError(err); te != "" {
		t.Fatalf("key source outage reported as token error %q", te)
	}
}

type failing struct{ signer.Signer }

func (failing) PublicKeys(context.Context) ([]jwk.Key, error) { return nil, signer.ErrUnavailable }

func TestNewVerifierConfig(t *testing.T) {
	src := aat.StaticKeys{}
	tests := []struct {
		name string
		cfg  aat.Config
	}{
		{"no issuers", aat.Config{Audience: "a"}},
		{"nil key source", aat.Config{Issuers: map[string]aat.KeySource{"i": nil}, Audience: "a"}},
		{"empty issuer", aat.Config{Issuers: map[string]aat.KeySource{"": src}, Audience: "a"}},
		{"no audience", aat.Config{Issuers: map[string]aat.KeySource{"i": src}}},
		{"skew too large", aat.Config{Issuers: map[string]aat.KeySource{"i": src}, Audience: "a", Skew: time.Hour}},
		{"negative skew", aat.Config{Issuers: map[string]aat.KeySource{"i": src}, Audience: "a", Skew: -time.Second}},
		{"alg none", aat.Config{Issuers: map[string]aat.KeySource{"i": src}, Audience: "a", AllowedAlgs: []string{"none"}}},
		{"alg HS256", aat.Config{Issuers: map[string]aat.KeySource{"i": src}, Audience: "a", AllowedAlgs: []string{"EdDSA", "HS256"}}},
		{"no algs", aat.Config{Issuers: map[string]aat.KeySource{"i": src}, Audience: "a", AllowedAlgs: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := aat.NewVerifier(tt.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestTokenError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{aat.ErrExpired, codes.TokenErrorExpired},
		{aat.ErrNotYetValid, codes.TokenErrorNotYetValid},
		{aat.ErrSignature, codes.TokenErrorSignature},
		{aat.ErrMalformed, codes.TokenErrorMalformed},
		{aat.ErrAudience, codes.TokenErrorAudience},
		{aat.ErrIssuerUntrusted, codes.TokenErrorIssuer},
		{aat.ErrBinding, codes.TokenErrorBinding},
		{aat.ErrKeysUnavailable, ""},
		{errors.New("other"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			wrapped := tt.err
			if wrapped != nil {
				wrapped = errors.Join(errors.New("context"), tt.err)
			}
			if got := aat.TokenError(wrapped); got != tt.want {
				t.Fatalf("TokenError(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
