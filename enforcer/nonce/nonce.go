package nonce

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on with errors.Is.
var (
	// ErrReplayed means the jti was already recorded and has not expired:
	// the request is a replay (AIP token_error replay_detected).
	ErrReplayed = errors.New("nonce replayed")
	// ErrUnavailable means the store could not record the jti (backend
	// unreachable, memory store full): the caller denies the request.
	ErrUnavailable = errors.New("nonce store unavailable")
)

// Store records the jtis of accepted proofs.
type Store interface {
	// Record remembers jti for ttl. It returns ErrReplayed if jti is
	// already remembered, an error wrapping ErrUnavailable if it cannot
	// tell, and another error for an empty jti or a non-positive ttl.
	Record(ctx context.Context, jti string, ttl time.Duration) error
}

// maxJTILength bounds the jtis a store accepts (dpop.Verify allows 256;
// callers may prefix them with a 43-byte thumbprint).
const maxJTILength = 512

func checkArgs(jti string, ttl time.Duration) error {
	if jti == "" || len(jti) > maxJTILength {
		return fmt.Errorf("record nonce: jti must be 1 to %d bytes", maxJTILength)
	}
	if ttl <= 0 {
		return fmt.Errorf("record nonce: ttl %s must be positive", ttl)
	}
	return nil
}
