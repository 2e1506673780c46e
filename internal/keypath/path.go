package keypath

import "strconv"

// Join appends a mapping key to path. A key that is not a plain name
// (letters, digits, _, - and /) is quoted in brackets: policies["https://x"].
func Join(path, key string) string {
	switch {
	case !plain(key):
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

// Index appends a list index to path: tests[3].
func Index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plain(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if r != '_' && r != '-' && r != '/' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
