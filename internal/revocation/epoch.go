package revocation

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
)

// randomEpoch returns a fresh random version epoch read from rnd (nil means
// crypto/rand). A store keeps the first epoch it sees, so versions stay
// unique even if its counter is lost (a Redis without persistence
// restarting): the new epoch differs.
func randomEpoch(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 8)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("revocation version epoch: %w", err)
	}
	return hex.EncodeToString(b), nil
}
