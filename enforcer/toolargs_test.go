package enforcer

import (
	"reflect"
	"testing"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// toolArgsCases are arguments objects whose decoding the policy sees; each
// must decode as json.Decoder with UseNumber decodes it.
var toolArgsCases = map[string]string{
	"empty":             `{}`,
	"strings":           `{"path":"/work/a.txt","text":"hello"}`,
	"numbers":           `{"n":1,"f":-1.50,"e":1e400,"z":0.0}`,
	"literals":          `{"t":true,"f":false,"n":null}`,
	"escaped value":     `{"p":"\/etc\/passwd","q":"a\u0000b"}`,
	"escaped name":      `{"p\u0061th":"/etc/shadow"}`,
	"invalid utf-8":     "{\"p\":\"\xff/etc\"}",
	"invalid utf-8 key": "{\"\xffp\":\"x\"}",
	"nested":            `{"o":{"path":"~/.ssh/id_rsa","n":[1,2.5,"x"]},"a":[]}`,
	"spaces":            "{ \"a\" : 1 , \"b\" :\t\"x\" }",
	"unicode":           `{"ｐａｔｈ":"日本語"}`,
}

func TestToolArgsMatchesDecoder(t *testing.T) {
	for name, args := range toolArgsCases {
		t.Run(name, func(t *testing.T) { checkToolArgs(t, []byte(args)) })
	}
}

func FuzzToolArgs(f *testing.F) {
	for _, args := range toolArgsCases {
		f.Add([]byte(args))
	}
	f.Fuzz(checkToolArgs)
}

// checkToolArgs compares toolArgs with the decoder on args, when args get
// as far as the engine lets them (a tools/call whose arguments digest).
func checkToolArgs(t *testing.T, args []byte) {
	line := append(append([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":`), args...), '}', '}')
	m, err := jsonrpc.Parse(line)
	if err != nil {
		return
	}
	tc, err := m.ToolCall()
	if err != nil || tc.Arguments == nil {
		return
	}
	if _, err := audit.ArgsDigest(tc.Arguments); err != nil {
		return
	}
	got, err := toolArgs(tc)
	if err != nil {
		t.Fatalf("toolArgs(%q): %v", args, err)
	}
	want, err := decodeArgs(tc.Arguments)
	if err != nil {
		t.Fatalf("decodeArgs(%q): %v", args, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("toolArgs(%q) = %#v, the decoder gives %#v", args, got, want)
	}
}
