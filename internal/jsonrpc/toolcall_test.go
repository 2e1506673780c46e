package jsonrpc

import (
	"errors"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

func TestToolCall(t *testing.T) {
	tests := []struct {
		name     string
		params   string
		wantName string
		wantArgs []string // member names in order
		wantErr  bool
	}{
		{"name and arguments", `{"name":"read_file","arguments":{"path":"/tmp/x","n":1}}`, "read_file", []string{"path", "n"}, false},
		{"no arguments", `{"name":"list"}`, "list", nil, false},
		{"null arguments", `{"name":"list","arguments":null}`, "list", nil, false},
		{"meta ignored", `{"_meta":{"progressToken":1},"name":"t","arguments":{}}`, "t", nil, false},
		{"escaped name", `{"name":"exec\u005fcommand"}`, "exec_command", nil, false},
		{"params array", `[1]`, "", nil, true},
		{"missing name", `{"arguments":{}}`, "", nil, true},
		{"empty name", `{"name":""}`, "", nil, true},
		{"name not string", `{"name":5}`, "", nil, true},
		{"arguments array", `{"name":"t","arguments":[1]}`, "", nil, true},
		{"arguments string", `{"name":"t","arguments":"{}"}`, "", nil, true},
		{"duplicate name", `{"name":"safe","name":"exec"}`, "", nil, true},
		{"case variant name", `{"name":"safe","Name":"exec"}`, "", nil, true},
		{"case variant arguments alone", `{"name":"t","Arguments":{"path":"/etc/shadow"}}`, "", nil, true},
		{"duplicate argument", `{"name":"t","arguments":{"path":"/ok","path":"/etc/shadow"}}`, "", nil, true},
		{"case variant argument", `{"name":"t","arguments":{"path":"/ok","PATH":"/etc/shadow"}}`, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":` + tt.params + `}`
			m, err := Parse([]byte(line))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc, err := m.ToolCall()
			if tt.wantErr {
				var perr *ProtocolError
				if !errors.As(err, &perr) || perr.Code != codes.InvalidParams || string(perr.ID) != "9" || !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("ToolCall error = %v, want invalid params carrying id 9", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ToolCall: %v", err)
			}
			var names []string
			for _, a := range tc.Args {
				names = append(names, a.Name)
			}
			if tc.Name != tt.wantName || len(names) != len(tt.wantArgs) {
				t.Fatalf("got %q %v, want %q %v", tc.Name, names, tt.wantName, tt.wantArgs)
			}
			for i := range names {
				if names[i] != tt.wantArgs[i] {
					t.Errorf("arg %d = %q, want %q", i, names[i], tt.wantArgs[i])
				}
			}
		})
	}
}

func TestMembers(t *testing.T) {
	many := `{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5,"b6":6,`
	tests := []struct {
		name    string
		obj     string
		want    int
		wantDup bool
		wantErr bool
	}{
		{"empty", `{}`, 0, false, false},
		{"values kept raw", `{"a":[1, {"b":"}"}], "c":"\""}`, 2, false, false},
		{"not json", `{"a":`, 0, false, true},
		{"not object", `[1]`, 0, false, true},
		{"many unique", many + `"z":1}`, 18, false, false},
		{"many with fold duplicate", many + `"A5":1}`, 0, true, true},
		{"kelvin sign", "{\"k\":1,\"\u212A\":2}", 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Members([]byte(tt.obj))
			if (err != nil) != tt.wantErr || errors.Is(err, ErrDuplicateMember) != tt.wantDup {
				t.Fatalf("Members error = %v, wantErr %v wantDup %v", err, tt.wantErr, tt.wantDup)
			}
			if len(ms) != tt.want {
				t.Errorf("got %d members, want %d", len(ms), tt.want)
			}
		})
	}
	ms, _ := Members([]byte(`{"a":[1, {"b":"}"}], "c":"\""}`))
	if string(ms[0].Value) != `[1, {"b":"}"}]` || string(ms[1].Value) != `"\""` {
		t.Errorf("raw values = %s, %s", ms[0].Value, ms[1].Value)
	}
}
