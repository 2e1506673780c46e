package agent_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aip-project/aip/identity/agent"
)

// okTransport answers 200 without a network, so the benchmark measures
// what the Transport adds to a call: body buffering, proof, headers.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

func BenchmarkRoundTrip(b *testing.B) {
	issuerURL, is := startIssuer(b, newClock(), "")
	key := registerAgent(b, is, "bench", "read_file")
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: "https://mcp.test/files", Key: key,
		LocalUser: localUser, Base: okTransport{}, HTTPClient: http.DefaultClient})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/x"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://mcp.test/files", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
	}
}
