package nonce_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/nonce"
)

// storeFactory returns a fresh, empty store and a function that lets time
// pass for it (a fake clock for Memory, a sleep for Redis).
type storeFactory func(t *testing.T) (nonce.Store, func(time.Duration))

// runConformance is the suite every Store passes.
func runConformance(t *testing.T, newStore storeFactory) {
	tests := []struct {
		name string
		fn   func(*testing.T, storeFactory)
	}{
		{"RecordOnce", testRecordOnce},
		{"Expiry", testExpiry},
		{"InvalidArguments", testInvalidArguments},
		{"ConcurrentSameJTI", testConcurrentSameJTI},
		{"ConcurrentDistinct", testConcurrentDistinct},
		{"NUL", testNUL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// record records jti with no issue date (no horizon check).
func record(t *testing.T, s nonce.Store, jti string, ttl time.Duration, want error) {
	t.Helper()
	recordAt(t, s, jti, time.Time{}, ttl, want)
}

func recordAt(t *testing.T, s nonce.Store, jti string, issued time.Time, ttl time.Duration, want error) {
	t.Helper()
	err := s.Record(context.Background(), jti, issued, ttl)
	if !errors.Is(err, want) || (want == nil && err != nil) {
		t.Fatalf("Record(%q, issued %s, %s) = %v, want %v", jti, issued, ttl, err, want)
	}
}

// A jti holding a NUL byte is an argument error (the Redis store keeps
// its horizon under prefix + NUL).
func testNUL(t *testing.T, newStore storeFactory) {
	s, _ := newStore(t)
	if err := s.Record(context.Background(), "nul\x00byte", time.Time{}, time.Minute); err == nil || errors.Is(err, nonce.ErrReplayed) {
		t.Fatalf("Record of a jti with a NUL byte = %v, want an argument error", err)
	}
}

func testRecordOnce(t *testing.T, newStore storeFactory) {
	s, _ := newStore(t)
	record(t, s, "a", time.Hour, nil)
	record(t, s, "a", time.Hour, nonce.ErrReplayed)
	record(t, s, "a", time.Minute, nonce.ErrReplayed) // another ttl is no way around it
	record(t, s, "b", time.Hour, nil)
	record(t, s, "A", time.Hour, nil) // jtis are case-sensitive
	record(t, s, "b", time.Hour, nonce.ErrReplayed)
}

func testExpiry(t *testing.T, newStore storeFactory) {
	s, advance := newStore(t)
	record(t, s, "short", 100*time.Millisecond, nil)
	record(t, s, "long", time.Hour, nil)
	advance(10 * time.Millisecond)
	record(t, s, "long", time.Hour, nonce.ErrReplayed)
	advance(200 * time.Millisecond)
	record(t, s, "short", 100*time.Millisecond, nil) // expired: recorded anew
	record(t, s, "short", 100*time.Millisecond, nonce.ErrReplayed)
	record(t, s, "long", time.Hour, nonce.ErrReplayed)
}

func testInvalidArguments(t *testing.T, newStore storeFactory) {
	s, _ := newStore(t)
	tests := []struct {
		name string
		jti  string
		ttl  time.Duration
	}{
		{"empty jti", "", time.Minute},
		{"huge jti", strings.Repeat("j", 513), time.Minute},
		{"zero ttl", "z", 0},
		{"negative ttl", "n", -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Record(context.Background(), tt.jti, time.Time{}, tt.ttl)
			if err == nil || errors.Is(err, nonce.ErrReplayed) || errors.Is(err, nonce.ErrUnavailable) {
				t.Fatalf("Record = %v, want an argument error", err)
			}
		})
	}
	// A refused call records nothing.
	record(t, s, "z", time.Minute, nil)
}

func testConcurrentSameJTI(t *testing.T, newStore storeFactory) {
	s, _ := newStore(t)
	const n = 32
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch err := s.Record(context.Background(), "raced", time.Time{}, time.Minute); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, nonce.ErrReplayed):
				replayed.Add(1)
			default:
				t.Errorf("Record: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != n-1 {
		t.Fatalf("%d accepted, %d replays; want 1 and %d", ok.Load(), replayed.Load(), n-1)
	}
}

func testConcurrentDistinct(t *testing.T, newStore storeFactory) {
	s, _ := newStore(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				jti := strconv.Itoa(g) + "-" + strconv.Itoa(i)
				if err := s.Record(context.Background(), jti, time.Time{}, time.Minute); err != nil {
					t.Errorf("Record(%s): %v", jti, err)
				}
			}
		})
	}
	wg.Wait()
	record(t, s, "3-7", time.Minute, nonce.ErrReplayed)
}
