package agentid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/agentid"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"simple", "billing-bot", true},
		{"digits and dots", "agent.v2_1", true},
		{"single char", "a", true},
		{"max length", strings.Repeat("a", agentid.MaxLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", agentid.MaxLen+1), false},
		{"uppercase", "Billing", false},
		{"slash", "a/b", false},
		{"dot dot", "..", false},
		{"leading dash", "-a", false},
		{"trailing dot", "a.", false},
		{"space", "a b", false},
		{"percent", "a%2fb", false},
		{"unicode", "agént", false},
		{"nul", "a\x00b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := agentid.Validate(tt.id)
			if tt.ok && err != nil {
				t.Fatalf("Validate(%q) = %v, want nil", tt.id, err)
			}
			if !tt.ok && !errors.Is(err, agentid.ErrInvalid) {
				t.Fatalf("Validate(%q) = %v, want ErrInvalid", tt.id, err)
			}
		})
	}
}
