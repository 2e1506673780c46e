package issuerclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/aip-project/aip/issuer/binding"
)

// ListBindings returns the active SSO bindings, filtered by user and agent
// when they are not empty (GET /v1/bindings).
func (c *Client) ListBindings(ctx context.Context, f binding.Filter) ([]binding.Binding, error) {
	q := url.Values{}
	if f.User != "" {
		q.Set("user", f.User)
	}
	if f.Agent != "" {
		q.Set("agent", f.Agent)
	}
	return c.bindingList(ctx, http.MethodGet, q)
}

// RevokeBinding ends one binding (DELETE /v1/bindings/ID).
func (c *Client) RevokeBinding(ctx context.Context, id string) (*binding.Binding, error) {
	var out binding.Binding
	req := request{method: http.MethodDelete, path: "/v1/bindings/" + url.PathEscape(id), admin: true}
	if err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeUserBindings ends every binding of user at once and returns them
// (DELETE /v1/bindings?user=U).
func (c *Client) RevokeUserBindings(ctx context.Context, user string) ([]binding.Binding, error) {
	return c.bindingList(ctx, http.MethodDelete, url.Values{"user": {user}})
}

func (c *Client) bindingList(ctx context.Context, method string, q url.Values) ([]binding.Binding, error) {
	path := "/v1/bindings"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Bindings []binding.Binding `json:"bindings"`
	}
	if err := c.doJSON(ctx, request{method: method, path: path, admin: true}, &out); err != nil {
		return nil, err
	}
	return out.Bindings, nil
}

// OwnBindings returns the bindings of the person whose ID token idToken
// is (GET /v1/me/bindings).
func (c *Client) OwnBindings(ctx context.Context, idToken string) ([]binding.Binding, error) {
	var out struct {
		Bindings []binding.Binding `json:"bindings"`
	}
	req := request{method: http.MethodGet, path: "/v1/me/bindings", header: bearer(idToken)}
	if err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Bindings, nil
}

// RevokeOwnBinding ends one of the person's own bindings
// (DELETE /v1/me/bindings/ID).
func (c *Client) RevokeOwnBinding(ctx context.Context, idToken, id string) (*binding.Binding, error) {
	var out binding.Binding
	req := request{method: http.MethodDelete, path: "/v1/me/bindings/" + url.PathEscape(id), header: bearer(idToken)}
	if err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
