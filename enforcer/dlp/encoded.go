package dlp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
)

// minEncodedLen is the shortest run worth decoding: 16 characters hold 12
// bytes of base64 or 8 of hex, shorter than any secret worth a pattern.
const minEncodedLen = 16

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '+' || c == '/' || c == '-' || c == '_'
}

func isHexChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// encodedSpans appends to dst a span for every base64 or hex run in text
// whose decoded bytes match a rule. A run is a maximal stretch of base64
// characters (both alphabets; hex is a subset) with its "=" padding.
func (rs *ruleSet) encodedSpans(text []byte, dst []span) []span {
	for i := 0; i < len(text); {
		if !isBase64Char(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isBase64Char(text[j]) {
			j++
		}
		end := j
		for end < len(text) && end-j < 2 && text[end] == '=' {
			end++
		}
		if j-i >= minEncodedLen {
			if r, ok := rs.decodedMatch(text[i:j]); ok {
				dst = append(dst, span{i, end, r})
			}
		}
		i = end
	}
	return dst
}

// decodedMatch decodes run as hex and as base64, at every alignment (a run
// may start with characters that are not part of the encoding), and
// returns the first rule matching a decoding.
func (rs *ruleSet) decodedMatch(run []byte) (int, bool) {
	var buf []byte
	if isHexRun(run) {
		for off := 0; off < 2; off++ {
			sub := run[off : off+(len(run)-off)&^1]
			buf = append(buf[:0], make([]byte, hex.DecodedLen(len(sub)))...)
			if n, err := hex.Decode(buf, sub); err == nil {
				if r, ok := rs.firstMatch(buf[:n]); ok {
					return r, true
				}
			}
		}
	}
	std := bytes.ContainsAny(run, "+/")
	url := bytes.ContainsAny(run, "-_")
	if std && url {
		return 0, false
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	for off := 0; off < 4 && len(run)-off >= minEncodedLen; off++ {
		sub := run[off:]
		if len(sub)%4 == 1 {
			sub = sub[:len(sub)-1]
		}
		buf = append(buf[:0], make([]byte, enc.DecodedLen(len(sub)))...)
		if n, err := enc.Decode(buf, sub); err == nil {
			if r, ok := rs.firstMatch(buf[:n]); ok {
				return r, true
			}
		}
	}
	return 0, false
}

func isHexRun(run []byte) bool {
	for _, c := range run {
		if !isHexChar(c) {
			return false
		}
	}
	return true
}
