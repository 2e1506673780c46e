package stdio

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/policy"
)

const proxyPolicy = `apiVersion: aip.io/v1alpha1
kind: AgentPolicy
metadata: {name: proxy-test}
spec:
  allowed_methods: ["*"]
  denied_methods: [resources/read]
  allowed_tools: [echo]
  tool_rules:
    - tool: exec
      action: block
    - tool: deploy
      action: ask
  dlp:
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`

func testEngine(t testing.TB, a approval.Approver) *enforcer.Engine {
	t.Helper()
	doc, err := policy.Parse([]byte(proxyPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Compile(doc, policy.Options{HomeDir: "/home/agent", WorkDir: "/work"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := enforcer.New(enforcer.Config{Policy: p,
		Gate: approval.NewGate(approval.GateConfig{Approver: a, Timeout: 5 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// session is a client talking to a running Proxy over pipes.
type session struct {
	t     testing.TB
	in    *io.PipeWriter
	lines chan string
	done  chan result
	proxy *Proxy
}

type result struct {
	code int
	err  error
}

func startProxy(t testing.TB, e *enforcer.Engine, maxSize int) *session {
	t.Helper()
	cmd, env := echoCommand()
	return startProxyConfig(t, Config{Engine: e, Command: cmd, Env: env, MaxMessageSize: maxSize})
}

func startProxyConfig(t testing.TB, cfg Config) *session {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, lines: make(chan string, 1024), done: make(chan result, 1), proxy: p}
	go func() {
		code, err := p.Run(context.Background(), inR, outW)
		_ = outW.Close()
		s.done <- result{code, err}
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() { _ = inW.Close() })
	return s
}

func (s *session) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("write to proxy: %v", err)
	}
}

func (s *session) recv() string {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			s.t.Fatal("proxy output closed")
		}
		return l
	case <-time.After(10 * time.Second):
		s.t.Fatal("no message from the proxy within 10s")
	}
	return ""
}

func (s *session) wait() result {
	s.t.Helper()
	select {
	case r := <-s.done:
		return r
	case <-time.After(15 * time.Second):
		s.t.Fatal("proxy did not exit within 15s")
	}
	return result{}
}
