package token_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/token"
)

// FuzzParseRequest: any form body either parses into a request that keeps
// the invariants or is refused with an *oauth.Error; it never panics.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=a.b.c&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token&audience=x",
		"grant_type=password",
		"",
		"scope=%00&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange",
		"resource=http%3A%2F%2Fa%23frag&resource=b&audience=c&audience=c",
		"a=1&a=2",
		"%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, err := token.ParseRequest(form)
		if err != nil {
			var oe *oauth.Error
			if !errors.As(err, &oe) || oe.Code == "" || oe.Status < 400 {
				t.Fatalf("refusal is not an oauth error: %v", err)
			}
			return
		}
		// A subject token of a known type, or none: the agent's SSO binding.
		switch r.SubjectTokenType {
		case token.TokenTypeIDToken, token.TokenTypeLocalUser:
			if r.SubjectToken == "" {
				t.Fatalf("accepted without a subject token: %+v", r)
			}
		case token.TokenTypeBinding:
		default:
			t.Fatalf("accepted without a valid subject: %+v", r)
		}
		if r.Scope != nil && len(r.Scope) == 0 {
			t.Fatalf("empty non-nil scope accepted")
		}
		if len(r.Audience) > 8 {
			t.Fatalf("too many audiences accepted")
		}
	})
}
