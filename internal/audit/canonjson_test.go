package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
)

// checkAppendJCS fails when appendJCS answers for src (ok) with other
// bytes than jcs.Transform, or answers where jcs refuses. It returns ok.
func checkAppendJCS(t *testing.T, src []byte) bool {
	t.Helper()
	if !json.Valid(src) {
		return false // ArgsDigest refuses before canonicalizing
	}
	prefix := []byte("prefix")
	got, ok := appendJCS(prefix, src)
	if !ok {
		return false
	}
	want, err := jcs.Transform(src)
	if err != nil {
		t.Fatalf("appendJCS accepted what jcs refuses (%v): %q", err, src)
	}
	if !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("appendJCS(%q)\n got %q\nwant %q", src, got[len(prefix):], want)
	}
	// And ArgsDigest is the hash of the library's form.
	sum := sha256.Sum256(want)
	if d, err := ArgsDigest(src); err != nil || d != hex.EncodeToString(sum[:]) {
		t.Fatalf("ArgsDigest(%q) = %s, %v; want the hash of %q", src, d, err, want)
	}
	return true
}

func TestAppendJCSMatchesJCS(t *testing.T) {
	tests := []struct {
		name string
		src  string
		fast bool // appendJCS answers itself
	}{
		{"typical args", `{"path":"/work/notes/today.txt","text":"hello from the benchmark"}`, true},
		{"empty object", `{}`, true},
		{"empty with space", ` { } `, true},
		{"empty array", `[ ]`, true},
		{"nested, unsorted, spaced", "{ \"b\" : [ 1 , { \"d\" : null , \"c\" : true } ] ,\n\t\"a\" : false }", true},
		{"top-level string", `"x"`, true},
		{"escapes", `{"s":"\"\\\/\b\f\n\r\t\u0000\u001f\u007f\u00e9\u2028<>&"}`, true},
		{"raw unicode", `{"日本":"😀","é":"\ufffd"}`, true},
		{"utf-16 name order", `{"\uff01":1,"😀":2,"a":3,"é":4,"":5,"aa":6}`, true},
		{"prefix names", `{"ab":1,"a":2,"abc":3}`, true},
		{"integers", `[0,-0,7,-7,123456789012345,-123456789012345]`, true},
		{"large integers", `[1234567890123456,9007199254740993,123456789012345678901234]`, true},
		{"floats", `[1.0,0.1,1e21,1E-7,1e-6,-5e-324,1.7976931348623157e308,2.50,1e+2]`, true},
		{"number out of range", `[1e400]`, false},
		{"surrogate pair escape", `{"s":"\ud83d\ude00"}`, false},
		{"lone surrogate", `{"s":"\ud800x"}`, false},
		{"invalid utf-8", "{\"s\":\"a\xffb\"}", false},
		{"invalid utf-8 name", "{\"\xff\":1}", false},
		{"duplicate names", `{"a":1,"a":2}`, false},
		{"duplicate names nested", `[{"b":{"a":1,"a":1}}]`, false},
		{"top-level number", `1`, false},
		{"top-level literal", `true`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkAppendJCS(t, []byte(tt.src)); got != tt.fast {
				t.Errorf("fast path taken = %v, want %v", got, tt.fast)
			}
		})
	}
}

func TestAppendJCSRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(8785, 2))
	n, fast := 20000, 0
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		randomJSON(rng, &b, 0)
		if checkAppendJCS(t, []byte(b.String())) {
			fast++
		}
	}
	if fast < n/2 {
		t.Errorf("fast path taken for %d of %d documents", fast, n)
	}
}

var jsonNumbers = []string{"0", "-0", "1", "-12", "3.5", "1e3", "1E-7", "0.1", "1e21", "123456789012345678", "2.50", "-0.0"}

// randomJSON writes a random value, an object or array at the top, with
// random spacing; strings from pieces (invalid UTF-8 included) or escapes.
func randomJSON(rng *rand.Rand, b *strings.Builder, depth int) {
	sp := func() {
		if rng.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n"}[rng.IntN(4)])
		}
	}
	str := func() {
		b.WriteByte('"')
		for range rng.IntN(5) {
			if rng.IntN(3) == 0 {
				b.WriteString([]string{`\n`, `\"`, `\\`, `\/`, `\u00e9`, `\u0001`, `\ud83d\ude00`, `\uffff`, `\t`}[rng.IntN(9)])
				continue
			}
			p := pieces[rng.IntN(len(pieces))]
			if p == `"` || p == `\` || (len(p) == 1 && p[0] < 0x20) {
				p = strconv.Quote(p)
				p = p[1 : len(p)-1]
			}
			b.WriteString(p)
		}
		b.WriteByte('"')
	}
	kind := rng.IntN(6)
	if depth == 0 {
		kind = rng.IntN(2)
	} else if depth > 4 {
		kind = 2 + rng.IntN(4)
	}
	sp()
	switch kind {
	case 0:
		b.WriteByte('{')
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			sp()
			str()
			sp()
			b.WriteByte(':')
			randomJSON(rng, b, depth+1)
		}
		b.WriteByte('}')
	case 1:
		b.WriteByte('[')
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			randomJSON(rng, b, depth+1)
		}
		b.WriteByte(']')
	case 2:
		str()
	case 3:
		b.WriteString(jsonNumbers[rng.IntN(len(jsonNumbers))])
	case 4:
		b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
	default:
		b.WriteString(strconv.FormatFloat(rng.NormFloat64()*1e6, 'g', -1, 64))
	}
	sp()
}

func FuzzAppendJCS(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1e21,"\u00e9",{"b":[]}]`, `{"\ud83d\ude00":0}`, `"x"`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) { checkAppendJCS(t, src) })
}

func BenchmarkArgsDigest(b *testing.B) {
	args := json.RawMessage(`{"path":"/work/notes/today.txt","text":"hello from the benchmark, nothing secret here","opts":{"recursive":false,"depth":3}}`)
	b.Run("generic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := canonicalSHA256(args, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ArgsDigest(args); err != nil {
				b.Fatal(err)
			}
		}
	})
}
