package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/revocation"
)

func TestRevokeReturnsStoredRecord(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	admin := h.idp.idToken(t, map[string]any{"sub": "root", "groups": []string{"aip-admins"}})
	hdr := http.Header{"Authorization": {"Bearer " + admin}, "Content-Type": {"application/json"}}
	// A client-chosen revoked_at is ignored: the store's clock decides.
	body := `{"kind":"user","subject":"mallory","reason":"left the company","revoked_at":"2001-01-01T00:00:00Z"}`
	before := time.Now().Add(-time.Second)
	rec := h.do(t, http.MethodPost, "/v1/revocations", body, hdr)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /v1/revocations: %d %s", rec.Code, rec.Body)
	}
	got := decode[revocation.Revocation](t, rec)
	stored, err := h.revs.Check(context.Background(), revocation.Subjects{UserID: "mallory"})
	if err != nil || stored == nil {
		t.Fatalf("Check = %v, %v; want the revocation", stored, err)
	}
	if got.RevokedAt.Before(before) {
		t.Errorf("revoked_at = %v in the response, want the store's time", got.RevokedAt)
	}
	if !got.RevokedAt.Equal(stored.RevokedAt) || got.Kind != stored.Kind || got.Subject != stored.Subject || got.Reason != stored.Reason {
		t.Errorf("response %+v, stored %+v: want what was stored", got, *stored)
	}
}
