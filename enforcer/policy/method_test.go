package policy

import (
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"exec_command", "exec_command"},
		{"ｅｘｅｃ＿ｃｏｍｍａｎｄ", "exec_command"},
		{"Exec_Command", "exec_command"},
		{"  exec_command\t", "exec_command"},
		{"exec\u200b_command", "exec_command"},
		{"\ufeffexec\u200d_comm\u200cand\u2060", "exec_command"},
		{"exec\x00_command\x7f", "exec_command"},
		{"TOOLS/CALL", "tools/call"},
		{"ﬁle_read", "file_read"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckMethod(t *testing.T) {
	defaults := mustCompile(t, header+"spec:\n  allowed_tools: [a]\n", Options{})
	custom := mustCompile(t, header+"spec:\n  allowed_methods: [initialize, tools/call, resources/read]\n  denied_methods: [RESOURCES/READ]\n", Options{})
	star := mustCompile(t, header+"spec:\n  allowed_methods: [\"*\"]\n  denied_methods: [sampling/createMessage]\n", Options{})
	monitor := mustCompile(t, header+"spec:\n  mode: monitor\n", Options{})
	tests := []struct {
		name   string
		p      *Policy
		method string
		want   Action
	}{
		{"default allows tools/call", defaults, "tools/call", ActionAllow},
		{"default allows cancelled notification", defaults, "notifications/cancelled", ActionAllow},
		{"default denies resources/read", defaults, "resources/read", ActionDeny},
		{"default denies prompts/get", defaults, "prompts/get", ActionDeny},
		{"case-insensitive", defaults, "Tools/Call", ActionAllow},
		{"fullwidth", defaults, "ｔｏｏｌｓ/ｌｉｓｔ", ActionAllow},
		{"empty method refused", defaults, "", ActionDeny},
		{"empty method refused under star", star, "", ActionDeny},
		{"empty method refused in monitor mode", monitor, "", ActionDeny},
		{"only format characters", defaults, "\u200b", ActionDeny},
		{"only format characters in monitor mode", monitor, "\u200b", ActionDeny},
		{"denied wins over allowed", custom, "resources/read", ActionDeny},
		{"custom list replaces defaults", custom, "ping", ActionDeny},
		{"custom allowed", custom, "initialize", ActionAllow},
		{"star allows all", star, "resources/read", ActionAllow},
		{"star still honours denied", star, "sampling/createmessage", ActionDeny},
		{"monitor forwards", monitor, "resources/read", ActionAllowMonitor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.CheckMethod(tt.method)
			if d.Action != tt.want {
				t.Fatalf("CheckMethod(%q) = %v (%s), want %v", tt.method, d.Action, d.Reason, tt.want)
			}
			if tt.want == ActionAllow {
				return
			}
			if d.Code != codes.MethodNotAllowed || d.Message != "Method not allowed" || d.Data["method"] != tt.method || !d.Violation {
				t.Errorf("decision = %+v", d)
			}
		})
	}
}
