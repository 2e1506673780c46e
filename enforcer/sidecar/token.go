package sidecar

import (
	"net/http"
	"strings"
)

// HeaderAAT is the header a client may send its AAT in instead of
// Authorization.
const HeaderAAT = "X-AIP-AAT"

// tokenFrom returns the AAT of r, from Authorization (Bearer or DPoP
// scheme) or X-AIP-AAT, and never from the query or the body. Two
// different tokens, or a header given twice, is a bad request.
func tokenFrom(h http.Header) (string, *denial) {
	var found []string
	for _, v := range h.Values("Authorization") {
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP")) {
			continue // another scheme is not ours to judge
		}
		found = append(found, strings.TrimSpace(tok))
	}
	for _, v := range h.Values(HeaderAAT) {
		found = append(found, strings.TrimSpace(v))
	}
	switch {
	case len(found) == 0:
		return "", tokenRequired()
	case len(found) > 1:
		return "", badRequest("send the token once, in Authorization or in " + HeaderAAT)
	case found[0] == "":
		return "", tokenRequired()
	}
	return found[0], nil
}

// proofFrom returns the one DPoP header of r, or "" when there is none.
func proofFrom(h http.Header) (string, *denial) {
	vs := h.Values("DPoP")
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", tokenInvalid("invalid_proof", "send exactly one DPoP proof per request")
}
