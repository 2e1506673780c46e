package token

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

// randomID returns 128 random bits, base64url.
func randomID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
