// Package ratelimit is the policy.RateLimiter every enforcer of a
// deployment shares through Redis, so a limit of "10/minute" per agent or
// per tool holds across replicas. The keys are the caller's.
//
// Each decision is one Lua script (one round trip) implementing GCRA, the
// algorithm of policy.MemoryLimiter: a burst of N calls, then one more
// every Per/N. When Redis cannot answer, Allow returns an error wrapping
// ErrUnavailable and the policy engine denies the call (fail closed).
//
// It never logs; keys should hold ids, never tokens.
package ratelimit
