package security

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
)

// margin is how much later than read_timeout the server may close a slow
// connection: a bound on the wait, not a speed requirement.
const margin = 3 * time.Second

// TestHostileBodies sends bodies over the limit, nested beyond any parser's
// comfort, and trickled byte by byte.
func TestHostileBodies(t *testing.T) {
	st := newStack(t)
	k := newKey(t)
	token := mint(t, st.issuer.Signer, st.claims(k))
	authed := func(body string) func(t *testing.T) request {
		return func(t *testing.T) request { return st.prove(t, k, request{body: body, token: token}) }
	}
	const depth = 100_000
	open, closed := strings.Repeat("[", depth), strings.Repeat("]", depth)
	nestedArgs := func(n int) string {
		return `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"message":` +
			strings.Repeat("[", n) + strings.Repeat("]", n) + `}}}`
	}

	st.run(t, []attack{
		{name: "oversized body", status: http.StatusRequestEntityTooLarge, code: int(codes.InvalidRequest), audit: 1,
			req: authed(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"` + strings.Repeat("a", maxBodyBytes) + `"}}`)},
		{name: "100k unclosed brackets, no token", status: http.StatusUnauthorized, code: int(codes.TokenRequired), audit: 1,
			req: func(*testing.T) request { return request{body: open} }},
		{name: "100k unclosed brackets", status: http.StatusOK, code: int(codes.ParseError), audit: 1, req: authed(open)},
		{name: "100k nested arrays", status: http.StatusOK, code: int(codes.ParseError), audit: 1, req: authed(open + closed)},
		{name: "100k nested arrays in the arguments", status: http.StatusOK, code: int(codes.ParseError), audit: 1, req: authed(nestedArgs(depth))},
		// Deep enough for the policy, not for the parser: the protected
		// path check refuses what it cannot walk (fail closed).
		{name: "100 nested arrays in the arguments", status: http.StatusOK, code: int(codes.ProtectedPath), audit: 1, req: authed(nestedArgs(100))},
	})

	t.Run("oversized chunked body closes the connection cleanly", func(t *testing.T) {
		st.expectRefused(t, attack{status: http.StatusRequestEntityTooLarge, code: int(codes.InvalidRequest), audit: 1}, func() answer {
			conn := dial(t, st)
			head := "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
			chunk := strings.Repeat("a", 32<<10)
			go func() { // the body: more than the limit, then as much as the server takes
				_, _ = io.WriteString(conn, head)
				for range 4 * maxBodyBytes / len(chunk) {
					if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
						return
					}
				}
			}()
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer to an oversized body: %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("answer cut short: %v", err)
			}
			if !resp.Close {
				t.Error("the server keeps a connection whose body it did not read (no Connection: close)")
			}
			if err := closedByServer(conn, br, time.Now().Add(margin)); err != nil {
				t.Error(err)
			}
			return parseAnswer(resp.StatusCode, b)
		})
		if resp, err := http.Get(st.sidecar + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("sidecar unhealthy after the attack: %v", err)
		} else {
			_ = resp.Body.Close()
		}
	})

	t.Run("slow body", func(t *testing.T) {
		st.expectRefused(t, attack{status: http.StatusBadRequest, code: int(codes.InvalidRequest), audit: 1}, func() answer {
			conn := dial(t, st)
			if _, err := io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"); err != nil {
				t.Fatal(err)
			}
			stop := trickle(conn, "\"jsonrpc\":\"2.0\"")
			defer stop()
			start := time.Now()
			br := bufio.NewReader(conn)
			_ = conn.SetReadDeadline(start.Add(readTimeout + margin))
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer within read_timeout (%s) + %s: %v", readTimeout, margin, err)
			}
			b, _ := io.ReadAll(resp.Body)
			if err := closedByServer(conn, br, start.Add(readTimeout+margin)); err != nil {
				t.Fatal(err)
			}
			t.Logf("slow body cut off after %s", time.Since(start).Round(time.Millisecond))
			return parseAnswer(resp.StatusCode, b)
		})
	})

	t.Run("slow headers", func(t *testing.T) {
		st.expectRefused(t, attack{status: 0, audit: 0}, func() answer {
			conn := dial(t, st)
			if _, err := io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatal(err)
			}
			stop := trickle(conn, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
			defer stop()
			start := time.Now()
			if err := closedByServer(conn, bufio.NewReader(conn), start.Add(readTimeout+margin)); err != nil {
				t.Fatal(err)
			}
			t.Logf("slow headers cut off after %s", time.Since(start).Round(time.Millisecond))
			return answer{}
		})
	})
	st.verifyAudit(t)
}

func dial(t *testing.T, st *stack) net.Conn {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(context.Background(), "tcp", strings.TrimPrefix(st.sidecar, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// trickle writes s one byte every 100 ms, again and again, until the
// server stops reading or stop is called; stop waits for the writer.
func trickle(conn net.Conn, s string) (stop func()) {
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte{s[i%len(s)]}); err != nil {
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// closedByServer waits until deadline for the server to close conn (EOF
// or reset), discarding what it still sends.
func closedByServer(conn net.Conn, br *bufio.Reader, deadline time.Time) error {
	_ = conn.SetReadDeadline(deadline)
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("the server kept the connection open past read_timeout (%s) + %s", readTimeout, margin)
	}
	return nil
}
