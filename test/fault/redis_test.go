package fault

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
	"github.com/aip-project/aip/test/stacktest"
)

// outcome is one call of the load loop.
type outcome struct {
	start, end time.Time
	enforcer   string
	status     int
	code       int
	reason     string
	err        error
}

// Redis killed (SIGKILL) and started again while two sidecars sharing it
// serve a continuous load: every call made while it is down is denied
// with 503 and -32603 and a reason, none is let through; once each
// sidecar has answered again every call succeeds; replays are refused
// after the recovery.
func TestRedisKilledUnderLoad(t *testing.T) {
	rds := env.NewRedis(t)
	mcpURL := env.MCPServerHTTP(t)
	iss := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: localUser})
	issuerURL := iss.URL
	key := issuertest.RegisterNativeAgent(t, iss.Issuer, localUser, "coder", "echo")
	const prefix = "fault"
	a := startSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: mcpURL, Redis: rds.Addr, RedisPrefix: prefix})
	// B is reached under A's URL, as behind a load balancer: a proof made
	// for one is valid at the other, and only the shared nonces stop a
	// replay across them.
	b := startSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: mcpURL, Redis: rds.Addr, RedisPrefix: prefix, PublicURL: a})
	rec := &stacktest.Recorder{}
	sessions := map[string]*mcpSession{
		a: openSession(t, agentClient(t, issuerURL, key, rec), a+"/mcp"),
		b: openSession(t, agentClient(t, issuerURL, key, stacktest.Via{From: a, To: b}), a+"/mcp"),
	}

	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := []string{a, b}[(w+i)%2]
				o := outcome{start: time.Now(), enforcer: name}
				status, resp, err := sessions[name].echo(context.Background(), fmt.Sprintf("w%d-%d", w, i))
				o.end, o.status, o.code, o.err = time.Now(), status, resp.code(), err
				if resp.Error != nil {
					o.reason = resp.Error.Data.Reason
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	snapshot := func() []outcome {
		mu.Lock()
		defer mu.Unlock()
		return append([]outcome(nil), outcomes...)
	}
	waitCalls := func(n int) {
		for deadline := time.Now().Add(30 * time.Second); len(snapshot()) < n; {
			if time.Now().After(deadline) {
				t.Fatalf("the load loop made %d calls, want %d", len(snapshot()), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	waitCalls(40)
	preHeader, preBody := rec.Last()
	// down is taken before the kill: a call ending while Kill runs may
	// already see Redis gone, and must not count as "before".
	down := time.Now()
	rds.Kill(t)
	waitCalls(len(snapshot()) + 80)
	up := time.Now()
	rds.Start(t)
	// Recovered once both sidecars have let a call through again and no
	// call has failed since: go-redis stops dialing after PoolSize failed
	// dials and probes once a second until Redis answers, so calls that
	// need a new connection may fail for about a second after Redis is
	// back while calls on pooled connections already pass. Then 80 calls
	// in a row, through both sidecars, must succeed.
	var recovered time.Time
	for deadline := time.Now().Add(30 * time.Second); ; {
		ok := map[string]time.Time{}
		var lastFail time.Time
		streak := 0
		for _, o := range snapshot() {
			if !o.start.After(up) {
				continue
			}
			if o.err == nil && o.status == http.StatusOK && o.code == 0 {
				if ok[o.enforcer].IsZero() {
					ok[o.enforcer] = o.end
				}
				if o.start.After(lastFail) {
					streak++
				}
				continue
			}
			if o.end.After(lastFail) {
				lastFail, streak = o.end, 0
			}
		}
		if len(ok) == 2 && streak >= 80 {
			recovered = later(later(ok[a], ok[b]), lastFail)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 30s of redis coming back (first successes %v, last failure %v, streak %d)", ok, lastFail, streak)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if settle := recovered.Sub(up); settle > 10*time.Second {
		t.Errorf("recovery took %v after redis came back, want a few seconds at most", settle)
	}
	stop()
	wg.Wait()

	var before, during, after, denied, allowedDown, failedAfter int
	for _, o := range snapshot() {
		if o.err != nil {
			t.Errorf("call to %s: transport error %v (want an answer, even a denial)", o.enforcer, o.err)
			continue
		}
		switch {
		case o.end.Before(down):
			before++
			if o.status != http.StatusOK || o.code != 0 {
				t.Errorf("before the outage: %d code %d %q", o.status, o.code, o.reason)
			}
		case o.start.After(down) && o.end.Before(up):
			during++
			if o.status == http.StatusOK && o.code == 0 {
				allowedDown++
				continue
			}
			if o.status != http.StatusServiceUnavailable || o.code != -32603 || !strings.Contains(o.reason, "unavailable") {
				t.Errorf("redis down: %d code %d reason %q; want 503, -32603 and the store named unavailable", o.status, o.code, o.reason)
			}
			denied++
		case o.start.After(recovered):
			after++
			if o.status != http.StatusOK || o.code != 0 {
				failedAfter++
				t.Errorf("after recovery (%s): %d code %d %q", o.enforcer, o.status, o.code, o.reason)
			}
		}
	}
	t.Logf("calls: %d before the kill, %d while redis was down (%d denied, %d allowed), %d after recovery (%d failed); recovery took %v",
		before, during, denied, allowedDown, after, failedAfter, recovered.Sub(up).Round(time.Millisecond))
	if allowedDown != 0 {
		t.Fatalf("%d call(s) let through while redis was down: the nonce check must fail closed", allowedDown)
	}
	if during == 0 || after == 0 {
		t.Fatalf("no call observed while down (%d) or after recovery (%d)", during, after)
	}

	t.Run("replay refused after recovery", func(t *testing.T) {
		h, body := rec.Last() // a call A accepted after the recovery
		for _, base := range []string{b, a} {
			status, resp := replay(t, base+"/mcp", h, body)
			if status != http.StatusUnauthorized || resp.code() != -32009 || resp.Error.Data.TokenError != "replay_detected" {
				t.Fatalf("replay to %s: %d %+v", base, status, resp.Error)
			}
		}
	})

	// Redis runs without persistence here: the nonces recorded before the
	// kill are gone. A proof captured before it is still refused, because
	// it was made before the nonce store's horizon, which the first call
	// after the restart set (internal/nonce: Redis).
	for _, base := range []string{a, b} {
		status, resp := replay(t, base+"/mcp", preHeader, preBody)
		if status != http.StatusUnauthorized || resp.code() != -32009 || resp.Error.Data.TokenError != "replay_detected" {
			t.Fatalf("replay to %s of a request captured before the kill, %v later: %d %+v",
				base, time.Since(down).Round(time.Millisecond), status, resp.Error)
		}
	}
}

func later(x, y time.Time) time.Time {
	if x.After(y) {
		return x
	}
	return y
}

// agentClient is the agent SDK for the native-key agent key of the local
// user, over base (nil: the default transport).
func agentClient(t *testing.T, issuerURL string, key *dpop.Key, base http.RoundTripper) *http.Client {
	t.Helper()
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: audience, Key: key, LocalUser: localUser, Base: base})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Client()
}

// replay sends body with exactly the headers h.
func replay(t *testing.T, url string, h http.Header, body []byte) (int, rpcResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	status, resp, _, err := send(http.DefaultClient, req)
	if err != nil {
		t.Fatal(err)
	}
	return status, resp
}
