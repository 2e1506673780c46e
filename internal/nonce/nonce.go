package nonce

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ErrBeforeHorizon means the jti was issued before the store's
	// horizon, the moment since which it holds every record: its records
	// from before may be lost (a process restart for Memory, a Redis
	// restart or flush for Redis), so it cannot tell a first use from a
	// replay. It wraps ErrReplayed: callers refuse it the same way, and a
	// client retries with a fresh proof.
	ErrBeforeHorizon = fmt.Errorf("%w: issued before the nonce store's horizon (its earlier records may be lost)", ErrReplayed)
)

// Store records the jtis of accepted proofs.
type Store interface {
	// Record remembers jti, issued at issued (a proof's iat), for ttl. It
	// returns ErrReplayed if jti is already remembered, ErrBeforeHorizon
	// if issued is less than ttl before the store's horizon (a zero issued
	// is never refused for that: callers with a date pass it), an error wrapping
	// ErrUnavailable if it cannot tell, and another error for an empty
	// jti, one holding a NUL byte, or a non-positive ttl.
	Record(ctx context.Context, jti string, issued time.Time, ttl time.Duration) error
}

// beforeHorizon reports whether issued, a date with whole seconds (JWT
// iat), falls in the ttl before horizon: then a record of the jti may
// have been lost and still be live. A jti issued earlier than that would
// have expired by now, and a verifier checking iat against its clock never
// passes one, unless that clock stepped back: it is recorded as usual
// rather than refused until the clock catches up. The horizon is compared
// at the second: a jti issued in the second the horizon was set passes,
// which leaves a replay window of under a second at a restart.
func beforeHorizon(issued, horizon time.Time, ttl time.Duration) bool {
	return !issued.IsZero() && issued.Before(horizon.Truncate(time.Second)) && !issued.Before(horizon.Add(-ttl))
}

// maxJTILength bounds the jtis a store accepts (dpop.Verify allows 256;
// callers may prefix them with a 43-byte thumbprint).
const maxJTILength = 512

func checkArgs(jti string, ttl time.Duration) error {
	if jti == "" || len(jti) > maxJTILength {
		return fmt.Errorf("record nonce: jti must be 1 to %d bytes", maxJTILength)
	}
	if strings.IndexByte(jti, 0) >= 0 {
		return errors.New("record nonce: jti holds a NUL byte")
	}
	if ttl <= 0 {
		return fmt.Errorf("record nonce: ttl %s must be positive", ttl)
	}
	return nil
}
