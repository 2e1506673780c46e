package agentid

import (
	"errors"
	"fmt"
)

// MaxLen is the longest agent id accepted, in bytes.
const MaxLen = 128

// ErrInvalid is wrapped by every error about a malformed agent id or scheme.
var ErrInvalid = errors.New("invalid agent id")

// Validate reports whether id is a well-formed agent id: 1 to MaxLen bytes
// of lowercase ASCII letters, digits, '.', '_' and '-', starting and ending
// with a letter or digit. The charset is a subset of what a SPIFFE ID path
// segment allows, so every valid agent id can be carried in one segment,
// and lowercase only, so two ids never differ by case alone.
func Validate(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(id) > MaxLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c):
		case c == '.' || c == '_' || c == '-':
			if i == 0 || i == len(id)-1 {
				return fmt.Errorf("%w: must start and end with a letter or digit", ErrInvalid)
			}
		default:
			return fmt.Errorf("%w: character %q at offset %d not allowed (use a-z, 0-9, '.', '_', '-')", ErrInvalid, c, i)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}
