package sidecar

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/aip-project/aip/enforcer/codes"
)

// forwardChild is forward for a stdio upstream: the POST's messages go to
// the child and its responses come back as one JSON body (a batch for a
// batch). There is no server stream and no session: GET and DELETE get
// 405, as Streamable HTTP allows. extra are replies (refused batch
// elements) to add to the response.
func (s *Server) forwardChild(w http.ResponseWriter, r *http.Request, body []byte, ids *idMap, extra ...[]byte) {
	ctx := r.Context()
	defer s.release(ctx, ids)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "this MCP server (stdio, behind the enforcer) offers no server stream or session", http.StatusMethodNotAllowed)
		return
	}
	resps, err := s.child.call(ctx, body)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		s.log.Error("stdio upstream unavailable", "err", err)
		s.metrics.decision("deny", reasonUpstream)
		d := &denial{status: http.StatusBadGateway, code: codes.InternalError, label: reasonUpstream,
			reason: "the MCP server behind the enforcer has exited; the enforcer must be restarted"}
		if !errors.Is(err, errChildExited) {
			d.reason = "the MCP server behind the enforcer could not be reached"
		}
		d.write(w, nil, s.challenge())
		return
	}
	for i := range resps {
		resps[i] = ids.restore(resps[i])
	}
	var first []byte
	switch {
	case isBatch(body):
		first = joinArray(resps)
	case len(resps) > 0:
		first = resps[0]
	}
	out := mergeReplies(first, extra)
	w.Header().Set("Content-Type", "application/json")
	if out == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	_, _ = w.Write(out)
}

func isBatch(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '['
}
