package dlp

import (
	"bytes"
	"regexp"
	"slices"
)

type rule struct {
	name string
	re   *regexp.Regexp
	pre  prefilter
}

// match reports whether r matches text, asking the prefilter first.
func (r *rule) match(text []byte) bool {
	return r.pre.mayMatch(text) && r.re.Match(text)
}

// ruleSet is the patterns of one direction.
type ruleSet struct {
	rules []rule
}

func newRuleSet(rules []rule) ruleSet {
	for i := range rules {
		rules[i].pre = newPrefilter(rules[i].re.String())
	}
	return ruleSet{rules: rules}
}

// firstMatch returns the index of the first rule matching text.
func (rs *ruleSet) firstMatch(text []byte) (int, bool) {
	for i := range rs.rules {
		if rs.rules[i].match(text) {
			return i, true
		}
	}
	return 0, false
}

// span is a redaction: bytes [start, end) of a string, labelled by rule.
type span struct {
	start, end int
	rule       int
}

// redactJSON rewrites the strings of the valid JSON value v that hold a
// match. Strings without escapes are matched in place; the output is built
// only once a match is found, so a clean value costs one scan and no copy.
func (rs *ruleSet) redactJSON(v []byte, detect bool) ([]byte, map[string]int, error) {
	var (
		out     []byte
		counts  map[string]int
		last    int
		scratch []byte
	)
	for i := 0; ; {
		q := bytes.IndexByte(v[i:], '"')
		if q < 0 {
			break
		}
		start := i + q
		end := stringEnd(v, start)
		text := v[start+1 : end-1]
		if bytes.IndexByte(text, '\\') >= 0 {
			scratch = unescape(scratch[:0], text)
			text = scratch
		}
		i = end
		if !rs.matches(text, detect) {
			continue
		}
		spans := rs.spans(text, detect)
		if len(spans) == 0 {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(v)+64)
			counts = make(map[string]int)
		}
		out = append(out, v[last:start]...)
		out = rs.appendRedacted(out, text, spans, counts)
		last = end
	}
	if out == nil {
		return v, nil, nil
	}
	return append(out, v[last:]...), counts, nil
}

func (rs *ruleSet) matches(text []byte, detect bool) bool {
	if _, ok := rs.firstMatch(text); ok {
		return true
	}
	return detect && len(rs.encodedSpans(text, nil)) > 0
}

// spans returns the merged, ordered redactions of text: overlapping
// matches become one span labelled by the match that starts first.
func (rs *ruleSet) spans(text []byte, detect bool) []span {
	var all []span
	for ri, r := range rs.rules {
		if !r.pre.mayMatch(text) {
			continue
		}
		for _, m := range r.re.FindAllIndex(text, -1) {
			all = append(all, span{m[0], m[1], ri})
		}
	}
	if detect {
		all = rs.encodedSpans(text, all)
	}
	slices.SortFunc(all, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.rule - b.rule
	})
	merged := all[:0]
	for _, s := range all {
		if n := len(merged); n > 0 && s.start < merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// appendRedacted appends text, spans replaced, as a JSON string.
func (rs *ruleSet) appendRedacted(out, text []byte, spans []span, counts map[string]int) []byte {
	var plain []byte
	last := 0
	for _, s := range spans {
		name := rs.rules[s.rule].name
		plain = append(plain, text[last:s.start]...)
		plain = append(plain, "[REDACTED:"...)
		plain = append(plain, name...)
		plain = append(plain, ']')
		counts[name]++
		last = s.end
	}
	plain = append(plain, text[last:]...)
	return appendQuoted(out, plain)
}
