package jsonrpc

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The functions here walk JSON that jsonvalid.Valid has accepted; on other input
// their results are meaningless (but they never panic or loop).

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// stringEnd returns the index just past the closing quote of the string
// whose opening quote is b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return len(b)
		}
		q += j
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		k := q
		for k > i+1 && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); {
			switch b[j] {
			case '"':
				j = stringEnd(b, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return len(b)
	}
	j := i
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
}

// eachElement calls fn with each element of the array b (b[0] == '[').
func eachElement(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != ']' {
		end := valueEnd(b, i)
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

// eachMember calls fn with the decoded name and the raw value of each member
// of the object b (b[0] == '{'), in order.
func eachMember(b []byte, fn func(name, value []byte) error) error {
	i := skipSpace(b, 1)
	for i < len(b) && b[i] == '"' {
		kend := stringEnd(b, i)
		name := b[i+1 : kend-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			name = unquote(b[i:kend])
		}
		i = skipSpace(b, kend)
		i = skipSpace(b, i+1) // the colon
		vend := valueEnd(b, i)
		if err := fn(name, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

// unquote decodes a JSON string token, escapes included. Invalid input
// decodes to the replacement character so it can never equal a real name.
func unquote(tok []byte) []byte {
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return []byte(string(utf8.RuneError))
	}
	return []byte(s)
}

// stringValue returns the decoded value of the JSON string token tok and
// whether tok is a string at all.
func stringValue(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return intern(inner), true
	}
	return string(unquote(tok)), true
}

// intern returns string(b) without an allocation for the strings every
// message carries: the version, common MCP methods, tools/call members.
func intern(b []byte) string {
	switch string(b) { // compared without converting
	case "2.0":
		return "2.0"
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "name":
		return "name"
	case "arguments":
		return "arguments"
	case "ping":
		return "ping"
	case "initialize":
		return "initialize"
	case "notifications/initialized":
		return "notifications/initialized"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "resources/list":
		return "resources/list"
	case "resources/read":
		return "resources/read"
	case "prompts/list":
		return "prompts/list"
	case "prompts/get":
		return "prompts/get"
	}
	return string(b)
}
