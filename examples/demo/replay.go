package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// recorder is the agent SDK's base transport: when armed, it keeps a copy
// of the next POST exactly as it goes out (AAT, DPoP proof and body), for
// the replay scenario.
type recorder struct {
	base http.RoundTripper

	mu    sync.Mutex
	armed bool
	req   *http.Request
	body  []byte
}

func newRecorder() *recorder {
	return &recorder{base: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) arm(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed = on
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.armed && req.Method == http.MethodPost && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			r.body, _ = io.ReadAll(b)
			r.req = req.Clone(context.WithoutCancel(req.Context()))
			r.armed = false
		}
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// replay sends the recorded request again, byte for byte, with its
// proof, through rt (to the same enforcer, or to another replica sharing
// its nonce store): the proof's jti has been seen and must be refused.
func (d *demoAgent) replay(ctx context.Context, title string, rt http.RoundTripper) row {
	const want = "-32009"
	d.rec.mu.Lock()
	orig, body := d.rec.req, d.rec.body
	d.rec.mu.Unlock()
	say("%s: the allowed read's HTTP request is sent again, unchanged (same AAT, same DPoP proof)", title)
	if orig == nil {
		return newRow(title, want, false, "no request was recorded")
	}
	req, err := http.NewRequestWithContext(ctx, orig.Method, orig.URL.String(), bytes.NewReader(body))
	if err != nil {
		return newRow(title, want, false, err.Error())
	}
	req.Header = orig.Header.Clone()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return newRow(title, want, false, err.Error())
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var msg struct {
		Error *struct {
			Code int             `json:"code"`
			Data json.RawMessage `json:"data"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &msg) != nil || msg.Error == nil {
		return newRow(title, want, false, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, clip(string(b))))
	}
	var data struct {
		TokenError string `json:"token_error"`
	}
	_ = json.Unmarshal(msg.Error.Data, &data)
	detail := fmt.Sprintf("HTTP %d, refused %d %s", resp.StatusCode, msg.Error.Code, reasonOf(msg.Error.Data))
	fmt.Printf("   -> %s\n", detail)
	return newRow(title, want, fmt.Sprint(msg.Error.Code) == want && data.TokenError == "replay_detected", detail)
}
