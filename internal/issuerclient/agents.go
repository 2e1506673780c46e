package issuerclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/issuer/registry"
)

// Status changes of POST /v1/agents/{id}/{action}.
const (
	ActionSuspend    = "suspend"
	ActionReactivate = "reactivate"
	ActionRevoke     = "revoke"
)

// CreateAgent registers a (POST /v1/agents) and returns the stored agent.
func (c *Client) CreateAgent(ctx context.Context, a registry.Agent) (*registry.Agent, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode agent: %w", err)
	}
	var out registry.Agent
	r := request{method: http.MethodPost, path: "/v1/agents", admin: true, body: body, contentType: "application/json"}
	if err := c.doJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAgents returns every registered agent.
func (c *Client) ListAgents(ctx context.Context) ([]registry.Agent, error) {
	var out struct {
		Agents []registry.Agent `json:"agents"`
	}
	if err := c.doJSON(ctx, request{method: http.MethodGet, path: "/v1/agents", admin: true}, &out); err != nil {
		return nil, err
	}
	return out.Agents, nil
}

// GetAgent returns one agent.
func (c *Client) GetAgent(ctx context.Context, id string) (*registry.Agent, error) {
	var out registry.Agent
	if err := c.doJSON(ctx, request{method: http.MethodGet, path: agentPath(id, ""), admin: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetStatus suspends, reactivates or revokes an agent (one of the Action
// constants) and returns it.
func (c *Client) SetStatus(ctx context.Context, id, action string) (*registry.Agent, error) {
	switch action {
	case ActionSuspend, ActionReactivate, ActionRevoke:
	default:
		return nil, fmt.Errorf("agent status action %q: want suspend, reactivate or revoke", action)
	}
	var out registry.Agent
	if err := c.doJSON(ctx, request{method: http.MethodPost, path: agentPath(id, action), admin: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AID returns the signed Agent Identity Document of an agent, as served
// (verify it with registry.VerifyAID).
func (c *Client) AID(ctx context.Context, id string) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodGet, path: agentPath(id, "aid"), admin: true})
}

// JWKS returns the issuer's published keys (GET /.well-known/jwks.json).
func (c *Client) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := c.doJSON(ctx, request{method: http.MethodGet, path: "/.well-known/jwks.json"}, &set); err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return set, nil
}

// agentPath is /v1/agents/{id}[/sub] with id escaped.
func agentPath(id, sub string) string {
	p := "/v1/agents/" + url.PathEscape(id)
	if sub != "" {
		p += "/" + sub
	}
	return p
}
