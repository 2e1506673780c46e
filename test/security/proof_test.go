package security

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/revocation"
)

// TestProofAttacks sends valid tokens with proofs that do not fit them or
// the request, and revoked identities.
func TestProofAttacks(t *testing.T) {
	st := newStack(t)
	k := newKey(t)
	token := mint(t, st.issuer.Signer, st.claims(k))
	// proofFor makes a proof by key over what o says, for a request that
	// sends an initialize to /mcp with token.
	proofFor := func(key *dpop.Key, o dpop.Options) func(t *testing.T) request {
		return func(t *testing.T) request {
			o.AccessToken = token
			p, err := dpop.Proof(key, o)
			if err != nil {
				t.Fatal(err)
			}
			return request{body: initialize, token: token, proof: p}
		}
	}
	mcp := st.sidecar + "/mcp"
	body := []byte(initialize)
	invalid := func(name, tokenError string, req func(t *testing.T) request) attack {
		return attack{name: name, status: http.StatusUnauthorized, code: int(codes.TokenInvalid), tokenError: tokenError, audit: 1, req: req}
	}

	t.Run("control", func(t *testing.T) {
		st.expectAllowed(t, proofFor(k, dpop.Options{Method: http.MethodPost, URL: mcp, Body: body})(t))
	})
	replayed := proofFor(k, dpop.Options{Method: http.MethodPost, URL: mcp, Body: body})(t)
	t.Run("control: the proof to replay", func(t *testing.T) { st.expectAllowed(t, replayed) })

	st.run(t, []attack{
		invalid("no proof", codes.TokenErrorProof, func(*testing.T) request { return request{body: initialize, token: token} }),
		invalid("cnf.jkt of another key, proof by the attacker's key", codes.TokenErrorProof,
			proofFor(newKey(t), dpop.Options{Method: http.MethodPost, URL: mcp, Body: body})),
		invalid("replayed proof", codes.TokenErrorReplayDetected, func(*testing.T) request { return replayed }),
		invalid("proof for another URL", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodPost, URL: st.sidecar + "/v1/validate", Body: body})),
		invalid("proof for another host", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodPost, URL: "http://mcp.attacker.example/mcp", Body: body})),
		invalid("proof for another method", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodGet, URL: mcp, Body: body})),
		invalid("proof for another body", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodPost, URL: mcp, Body: []byte(echoCall)})),
		invalid("proof without a body hash", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodPost, URL: mcp})),
		invalid("proof for another token", codes.TokenErrorProof, func(t *testing.T) request {
			other := mint(t, st.issuer.Signer, st.claims(k))
			p, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: mcp, Body: body, AccessToken: other})
			if err != nil {
				t.Fatal(err)
			}
			return request{body: initialize, token: token, proof: p}
		}),
		invalid("stale proof", codes.TokenErrorProof,
			proofFor(k, dpop.Options{Method: http.MethodPost, URL: mcp, Body: body, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})),
	})
	st.verifyAudit(t)
}

// TestRevoked revokes an agent, a user, a token (jti) and a session in
// the revocation store the sidecar reads (the shared Redis), each hitting
// only its own token.
func TestRevoked(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	k := newKey(t)
	tokens := map[revocation.Kind]string{}
	subjects := map[revocation.Kind]string{}
	for kind, sub := range map[revocation.Kind]string{revocation.KindAgent: "agent-r", revocation.KindUser: "user-r",
		revocation.KindJTI: "jti-r", revocation.KindSession: "session-r"} {
		c := st.claims(k)
		switch kind {
		case revocation.KindAgent:
			c.Agent.ID = sub
		case revocation.KindUser:
			c.Subject, c.UserBinding.UserID = sub, sub
		case revocation.KindJTI:
			c.ID = sub
		case revocation.KindSession:
			c.SessionID = sub
		}
		tokens[kind], subjects[kind] = mint(t, st.issuer.Signer, c), sub
	}
	call := func(token string) func(t *testing.T) request {
		return func(t *testing.T) request { return st.prove(t, k, request{body: initialize, token: token}) }
	}
	kinds := []revocation.Kind{revocation.KindAgent, revocation.KindUser, revocation.KindJTI, revocation.KindSession}
	for _, kind := range kinds {
		t.Run("control: "+string(kind)+" before revocation", func(t *testing.T) { st.expectAllowed(t, call(tokens[kind])(t)) })
	}
	for _, kind := range kinds {
		if _, err := st.revs.Revoke(ctx, revocation.Revocation{Kind: kind, Subject: subjects[kind], Reason: "security test"}); err != nil {
			t.Fatal(err)
		}
	}
	// A canary revoked last: once the sidecar refuses it, it has every
	// revocation before it (one ordered subscription).
	canary := st.claims(k)
	canary.Agent.ID = "canary"
	canaryToken := mint(t, st.issuer.Signer, canary)
	if _, err := st.revs.Revoke(ctx, revocation.Revocation{Kind: revocation.KindAgent, Subject: "canary", Reason: "security test"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if a := st.send(t, call(canaryToken)(t)); a.code == int(codes.TokenRevoked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sidecar never saw the revocations")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var attacks []attack
	for _, kind := range kinds {
		attacks = append(attacks, attack{name: "revoked " + string(kind), status: http.StatusUnauthorized, code: int(codes.TokenRevoked),
			audit: 1, req: call(tokens[kind])})
	}
	st.run(t, attacks)
	t.Run("control: an unrevoked token still goes through", func(t *testing.T) {
		st.expectAllowed(t, call(mint(t, st.issuer.Signer, st.claims(k)))(t))
	})
	st.verifyAudit(t)
}
