package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/aip-project/aip/enforcer/codes"
)

// referenceCanonical is the generic path the fast encoder replaces:
// encoding/json, then the JCS library.
func referenceCanonical(rec Record) ([]byte, error) {
	rec.Hash = ""
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(body)
}

// checkCanonical fails unless appendCanonical gives exactly the reference
// bytes, or both refuse rec; and a sealed line must verify.
func checkCanonical(t *testing.T, rec Record) {
	t.Helper()
	want, werr := referenceCanonical(rec)
	prefix := []byte("garbage before")
	got, gerr := appendCanonical(prefix, &rec)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("reference error %v, fast error %v\nrecord %#v", werr, gerr, rec)
	}
	if werr != nil {
		return
	}
	if !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("canonical bytes differ\n got %q\nwant %q", got[len(prefix):], want)
	}
	// The sealed line must verify through the generic path; openLine wants
	// chain fields it can read.
	if rec.Seq == 0 || rec.Seq >= maxExact {
		rec.Seq = 1
	}
	if len(rec.PrevHash) != len(Genesis) {
		rec.PrevHash = Genesis
	}
	line, hash, err := sealRecord(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	f, ok, err := openLine(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil || !ok || f.Hash != hash {
		t.Fatalf("sealed line does not verify (ok=%v, err=%v): %s", ok, err, line)
	}
}

func TestCanonicalMatchesJCS(t *testing.T) {
	ts := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	full := Record{
		Seq: 7, Timestamp: ts, Direction: Upstream, Decision: Block, PolicyMode: "enforce", Violation: true,
		Method: "tools/call", Tool: "read_file", FailedRule: "protected_paths", FailedArg: "path",
		PolicyHash: strings.Repeat("ab", 32), Reason: "protected path", Code: codes.ProtectedPath,
		ArgsSHA256: strings.Repeat("cd", 32), Args: json.RawMessage(`{"b":1,"a":[true,null,"x"]}`),
		DLP: map[string]int{"aws_key": 2, "github_token": 1}, AgentID: "spiffe://example.org/agent",
		UserID: "alice", AATJTI: "jti-1", SessionID: "s-1", Issuer: "https://issuer", RequestID: "r-1",
		PrevHash: Genesis, Hash: "ignored",
	}
	with := func(edit func(*Record)) Record {
		r := full
		edit(&r)
		return r
	}
	tests := []struct {
		name string
		rec  Record
	}{
		{"zero record", Record{}},
		{"minimal", Record{Seq: 1, Timestamp: ts, Decision: Allow, PrevHash: Genesis}},
		{"every field", full},
		{"zero nanoseconds", with(func(r *Record) { r.Timestamp = ts.Truncate(time.Second) })},
		{"one nanosecond", with(func(r *Record) { r.Timestamp = ts.Add(1) })},
		{"year 0", with(func(r *Record) { r.Timestamp = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"year 10000 is refused", with(func(r *Record) { r.Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"not UTC", with(func(r *Record) { r.Timestamp = ts.In(time.FixedZone("x", 5*3600+1800)) })},
		{"quote and backslash", with(func(r *Record) { r.Reason = `say "no" to C:\path` })},
		{"control characters", with(func(r *Record) { r.Reason = "\x00\x01\b\t\n\v\f\r\x1f\x7f end" })},
		{"html characters", with(func(r *Record) { r.Tool = "<script>&amp;</script>" })},
		{"line separators", with(func(r *Record) { r.Reason = "a\u2028b\u2029c\u0085" })},
		{"unicode", with(func(r *Record) { r.Tool = "ｅｘｅｃ＿ｃｏｍｍａｎｄ 日本語 😀 é" })},
		{"zero width and bom", with(func(r *Record) { r.Tool = "exec\u200b\u200d\ufeff" })},
		{"invalid utf-8", with(func(r *Record) { r.Reason = "a\xffb\xc3(c\xed\xa0\x80d\xf4\x90\x80\x80" })},
		{"replacement character", with(func(r *Record) { r.Reason = "\ufffd" })},
		{"seq at 2^53", with(func(r *Record) { r.Seq = 1 << 53 })},
		{"seq above 2^53", with(func(r *Record) { r.Seq = 1<<53 + 1 })},
		{"seq max", with(func(r *Record) { r.Seq = math.MaxUint64 })},
		{"negative code", with(func(r *Record) { r.Code = -32700 })},
		{"huge code", with(func(r *Record) { r.Code = math.MinInt64 })},
		{"dlp utf-16 order", with(func(r *Record) {
			// U+1F600 is a surrogate pair (D83D …), which sorts before U+FF01
			// in UTF-16 though after it in code points.
			r.DLP = map[string]int{"\uff01": 1, "😀": 2, "a": 3, "é": 4, "": 5, "aa": -6}
		})},
		{"dlp large counts", with(func(r *Record) { r.DLP = map[string]int{"x": math.MaxInt64, "y": math.MinInt64, "z": 1<<53 + 1} })},
		{"dlp invalid utf-8 name", with(func(r *Record) { r.DLP = map[string]int{"a\xff": 1} })},
		{"dlp names equal after replacement", with(func(r *Record) { r.DLP = map[string]int{"\xff": 1, "\xfe": 2} })},
		{"empty dlp omitted", with(func(r *Record) { r.DLP = map[string]int{} })},
		{"empty args omitted", with(func(r *Record) { r.Args = json.RawMessage{} })},
		{"args numbers", with(func(r *Record) {
			r.Args = json.RawMessage(`{"n":[1.0,-0,1e21,1E-7,0.1,123456789012345678901234,-5e-324]}`)
		})},
		{"args escapes", with(func(r *Record) { r.Args = json.RawMessage(`{"\u00e9":"\u0041\/\ud83d\ude00<>&","é":1}`) })},
		{"args key order", with(func(r *Record) { r.Args = json.RawMessage(` { "b" : 1 , "a" : { "d" : [ ] , "c" : { } } } `) })},
		{"args scalar", with(func(r *Record) { r.Args = json.RawMessage(`"just a string"`) })},
		{"args null", with(func(r *Record) { r.Args = json.RawMessage(`null`) })},
		{"args invalid is refused", with(func(r *Record) { r.Args = json.RawMessage(`{"a":`) })},
		{"args duplicate names are refused", with(func(r *Record) { r.Args = json.RawMessage(`{"a":1,"a":2}`) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkCanonical(t, tt.rec) })
	}
}

// TestCanonicalRandomRecords compares the encoders over many random
// records (fixed seed, so a failure reproduces).
func TestCanonicalRandomRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(8785, 1))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		checkCanonical(t, randomRecord(rng))
	}
}

// pieces random strings are built from: ASCII, escapes, controls, HTML,
// multi-byte and supplementary characters, invalid UTF-8.
var pieces = []string{
	"a", "Z", "0", " ", "/", "_", "-", `"`, `\`, "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f",
	"<", ">", "&", "é", "ß", "日", "\u2028", "\u2029", "\u200b", "\ufeff", "\ufffd", "\uff01", "😀", "𝄞",
	"\xff", "\xc3", "\xed\xa0\x80", "\xe2\x82", "tools/call", "read_file",
}

func randomString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return ""
	}
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

func randomInt(rng *rand.Rand) int64 {
	switch rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return rng.Int64N(100000) - 50000
	case 2:
		return int64(rng.Uint64()) // any, including beyond 2^53
	}
	return 1<<53 - 2 + rng.Int64N(5)
}

var randomArgs = []string{
	"", `{}`, `[]`, `null`, `true`, `0`, `-0.0`, `1e400`, `{"b":"x","a":[1,2.50,{"z":null,"y":"\u00e9"}]}`,
	`{"path":"/tmp/a","text":"\u2028<&>"}`, `"\ud83d\ude00"`, `{"a":1,"a":1}`, `{`, `12345678901234567890`,
}

func randomRecord(rng *rand.Rand) Record {
	s := func() string { return randomString(rng) }
	rec := Record{
		Seq:        uint64(randomInt(rng)),
		Timestamp:  time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)).UTC(),
		Direction:  s(),
		Decision:   Decision(s()),
		PolicyMode: s(), Violation: rng.IntN(2) == 0, Method: s(), Tool: s(), FailedRule: s(), FailedArg: s(),
		PolicyHash: s(), Reason: s(), Code: codes.Code(randomInt(rng)), ArgsSHA256: s(),
		AgentID: s(), UserID: s(), AATJTI: s(), SessionID: s(), Issuer: s(), RequestID: s(),
		PrevHash: s(), Hash: s(),
	}
	if a := randomArgs[rng.IntN(len(randomArgs))]; a != "" {
		rec.Args = json.RawMessage(a)
	}
	if rng.IntN(2) == 0 {
		rec.DLP = map[string]int{}
		for range rng.IntN(4) {
			rec.DLP[s()] = int(randomInt(rng))
		}
	}
	return rec
}

// FuzzCanonical holds the fast encoder to the generic path on any input.
func FuzzCanonical(f *testing.F) {
	f.Add(uint64(1), int64(0), int64(1), "ALLOW", "read_file", "reason", "dlp", int64(1), []byte(`{"a":1}`))
	f.Add(uint64(1<<60), int64(-32007), int64(-1), "\x00\"\\", "日本\xff", "\u2028", "😀", int64(1<<62), []byte(`[1e21,"\u00e9"]`))
	f.Fuzz(func(t *testing.T, seq uint64, code, nanos int64, decision, tool, reason, dlpName string, count int64, args []byte) {
		rec := Record{
			Seq: seq, Timestamp: time.Unix(0, nanos).UTC(), Decision: Decision(decision), Tool: tool,
			Reason: reason, Code: codes.Code(code), PrevHash: Genesis,
		}
		if len(args) > 0 {
			rec.Args = args
		}
		if dlpName != "" {
			rec.DLP = map[string]int{dlpName: int(count), reason: 1}
		}
		checkCanonical(t, rec)
	})
}

func BenchmarkSealRecord(b *testing.B) {
	rec := sampleRecord(3)
	rec.Timestamp = time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	rec.Seq, rec.PrevHash = 42, Genesis
	b.Run("generic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := referenceCanonical(rec)
			if err != nil {
				b.Fatal(err)
			}
			_ = c
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			line, _, err := sealRecord(buf[:0], &rec)
			if err != nil {
				b.Fatal(err)
			}
			buf = line
		}
	})
}

// TestCanonicalCoversEveryField sets every field of Record, found by
// reflection, so a field added to Record without a place in
// appendCanonical fails here rather than vanishing from the log.
func TestCanonicalCoversEveryField(t *testing.T) {
	var rec Record
	v := reflect.ValueOf(&rec).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch x := f.Addr().Interface().(type) {
		case *time.Time:
			*x = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
		case *json.RawMessage:
			*x = json.RawMessage(`{"k":[1]}`)
		case *map[string]int:
			*x = map[string]int{"k": 1}
		default:
			switch f.Kind() {
			case reflect.String:
				f.SetString("v" + strconv.Itoa(i))
			case reflect.Bool:
				f.SetBool(true)
			case reflect.Int, reflect.Int64:
				f.SetInt(int64(i + 1))
			case reflect.Uint64:
				f.SetUint(uint64(i + 1))
			default:
				t.Fatalf("Record.%s has a kind the fast encoder does not know: %s", v.Type().Field(i).Name, f.Kind())
			}
		}
	}
	checkCanonical(t, rec)
}
