package token

import (
	"encoding/json"
	"testing"

	"github.com/aip-project/aip/internal/glob"
)

func TestClaimString(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"octo-org/app"`, "octo-org/app", true},
		{`"123"`, "123", true},
		{`123`, "123", true},
		{`123.0`, "123", true},
		{`1.23e2`, "123", true},
		{`-0`, "0", true},
		{`12345678901234567890123`, "12345678901234567890123", true},
		{`1.5`, "1.5", true},
		{`true`, "true", true},
		{`false`, "false", true},
		{`null`, "", false},
		{`["a"]`, "", false},
		{`{"a":1}`, "", false},
		{`1e999`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := claimString(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("claimString(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPolicyMatches(t *testing.T) {
	p := CIPolicy{Audience: "https://aip.example", Conditions: []CICondition{
		cond(t, "repository", "octo-org/*"), cond(t, "repository_id", "690000001"),
		cond(t, "ref", "refs/heads/main"), cond(t, "ref_protected", "true"),
	}}
	base := map[string]string{"repository": `"octo-org/app"`, "repository_id": `"690000001"`, "ref": `"refs/heads/main"`, "ref_protected": `"true"`}
	tests := []struct {
		name   string
		aud    []string
		change map[string]string // "" deletes the claim
		want   bool
	}{
		{"all match", []string{"https://aip.example"}, nil, true},
		{"one of several audiences", []string{"other", "https://aip.example"}, nil, true},
		{"numeric id as a number", []string{"https://aip.example"}, map[string]string{"repository_id": `690000001`}, true},
		{"boolean as a boolean", []string{"https://aip.example"}, map[string]string{"ref_protected": `true`}, true},
		{"unprotected ref", []string{"https://aip.example"}, map[string]string{"ref_protected": `false`}, false},
		{"another repository id", []string{"https://aip.example"}, map[string]string{"repository_id": `690000002`}, false},
		{"another owner", []string{"https://aip.example"}, map[string]string{"repository": `"evil-org/app"`}, false},
		{"missing claim", []string{"https://aip.example"}, map[string]string{"ref_protected": ""}, false},
		{"null claim", []string{"https://aip.example"}, map[string]string{"ref": `null`}, false},
		{"array claim", []string{"https://aip.example"}, map[string]string{"ref": `["refs/heads/main"]`}, false},
		{"wrong audience", []string{"https://other.example"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]json.RawMessage{}
			for k, v := range base {
				claims[k] = json.RawMessage(v)
			}
			for k, v := range tt.change {
				if v == "" {
					delete(claims, k)
				} else {
					claims[k] = json.RawMessage(v)
				}
			}
			if got := p.matches(tt.aud, claims); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func cond(t *testing.T, claim, pattern string) CICondition {
	t.Helper()
	g, err := glob.Compile(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return CICondition{Claim: claim, Pattern: g}
}
