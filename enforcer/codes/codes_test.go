package codes

import "testing"

func TestMessages(t *testing.T) {
	tests := []struct {
		code Code
		want string
	}{
		{Forbidden, "Forbidden"},
		{RateLimited, "Rate limit exceeded"},
		{UserDenied, "User denied"},
		{ApprovalTimeout, "User approval timeout"},
		{MethodNotAllowed, "Method not allowed"},
		{ProtectedPath, "Access denied: protected path"},
		{Code(12345), "Error"},
	}
	for _, tt := range tests {
		if got := tt.code.Message(); got != tt.want {
			t.Errorf("Code(%d).Message() = %q, want %q", tt.code, got, tt.want)
		}
	}
}
