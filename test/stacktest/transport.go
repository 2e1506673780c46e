package stacktest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Recorder is a base transport under the agent SDK that keeps the last
// POST exactly as sent (headers and body), for a replay.
type Recorder struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
}

// RoundTrip records req when it is a POST with a body and sends it with
// http.DefaultTransport.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.header, r.body = req.Header.Clone(), body
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// Last returns the headers and body of the last POST.
func (r *Recorder) Last() (http.Header, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header.Clone(), bytes.Clone(r.body)
}

// Via sends the requests for the plain-HTTP server at From to the one at
// To, as a load balancer in front of To does; others (the issuer) go
// direct.
type Via struct{ From, To string }

// RoundTrip sends req with http.DefaultTransport, to To when it is for
// From.
func (v Via) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != strings.TrimPrefix(v.From, "http://") {
		return http.DefaultTransport.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Host = strings.TrimPrefix(v.To, "http://")
	r.Host = ""
	return http.DefaultTransport.RoundTrip(r)
}
