package jsonvalid

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strings"
	"testing"
)

func TestValidMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty", in: ""},
		{name: "space only", in: " \t\r\n"},
		{name: "object", in: ` {"a": [1, -0.5e+3, "x\u00e9\n", true, false, null, {}]} `},
		{name: "nested empty", in: `[[],{},[{}]]`},
		{name: "trailing comma object", in: `{"a":1,}`},
		{name: "trailing comma array", in: `[1,]`},
		{name: "leading zero", in: `01`},
		{name: "minus alone", in: `-`},
		{name: "dot no digits", in: `1.`},
		{name: "exponent no digits", in: `1e+`},
		{name: "plus sign", in: `+1`},
		{name: "bad escape", in: `"\x"`},
		{name: "short unicode escape", in: `"\u12"`},
		{name: "bad hex", in: `"\u12g4"`},
		{name: "control char", in: "\"a\x01\""},
		{name: "invalid utf-8 passes", in: "\"\xff\xfe\""},
		{name: "unterminated string", in: `"abc`},
		{name: "two values", in: `1 2`},
		{name: "object key not string", in: `{1:2}`},
		{name: "missing colon", in: `{"a" 1}`},
		{name: "truncated literal", in: `tru`},
		{name: "literal with suffix", in: `nullx`},
		{name: "unclosed", in: `{"a":[1,2}`},
		{name: "vertical tab space", in: "\v1"},
		{name: "nbsp space", in: "\u00a01"},
		{name: "depth limit", in: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)},
		{name: "over depth limit", in: strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)},
		{name: "over depth limit objects", in: strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Valid([]byte(tc.in)), json.Valid([]byte(tc.in)); got != want {
				t.Fatalf("Valid = %v, json.Valid = %v", got, want)
			}
		})
	}
}

// FuzzValid holds Valid equal to encoding/json.Valid.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,{"b":null}]}}}`,
		`[-0.5e3, 1E+2, "\ud83d\ude00", "\/", true]`,
		`{"a":"\u00zz"}`, `[1,,2]`, "\"\x00\"", `{"a":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/home/user/project/README.md","encoding":"utf-8","n":-12.5e3,"ok":true}}}`)
	for _, tc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"encoding-json", json.Valid}, {"jsonvalid", Valid}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if !tc.valid(msg) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// special8's lowest set bit must be the first byte plain does not hold,
// whatever follows it.
func TestSpecial8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			for _, after := range []byte{'a', 0, '"', '\\', 0x1f, 0x20, 0x80, 0xff} {
				w := []byte("abcdefgh")
				w[pos] = byte(c)
				for i := pos + 1; i < 8; i++ {
					w[i] = after
				}
				want := 8
				for i, b := range w {
					if !plain[b] {
						want = i
						break
					}
				}
				got := 8
				if m := special8(binary.LittleEndian.Uint64(w)); m != 0 {
					got = bits.TrailingZeros64(m) / 8
				}
				if got != want {
					t.Fatalf("special8(%q) finds byte %d; want %d", w, got, want)
				}
			}
		}
	}
}
