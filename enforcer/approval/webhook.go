package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// webhookTimeout bounds one webhook notification.
const webhookTimeout = 10 * time.Second

// NewWebhook returns a QueueConfig.Notify that POSTs each queued approval
// as JSON (the Pending, with no credential) to rawURL. Failures are
// logged, without the URL, which may hold a secret; they never affect
// the call.
func NewWebhook(rawURL string, client *http.Client, log *slog.Logger) func(Pending) {
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(p Pending) {
		if err := notify(rawURL, client, p); err != nil {
			log.Warn("approval webhook failed", "approval_id", p.ID, "err", err)
		}
	}
}

func notify(rawURL string, client *http.Client, p Pending) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req) //nolint:gosec // G704: the URL is the operator's approvals.webhook_url
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return fmt.Errorf("post: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
