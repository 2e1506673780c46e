package issuerclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aip-project/aip/internal/revocation"
)

// Revoke records r (POST /v1/revocations) and returns it as stored.
func (c *Client) Revoke(ctx context.Context, r revocation.Revocation) (*revocation.Revocation, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode revocation: %w", err)
	}
	var out revocation.Revocation
	req := request{method: http.MethodPost, path: "/v1/revocations", admin: true, body: body, contentType: "application/json"}
	if err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
