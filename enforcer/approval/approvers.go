package approval

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// Approvers is the Authorizer of the approvals API: an mTLS peer whose
// X509-SVID has one of the SPIFFE IDs, or a
// request whose Authorization: Bearer secret equals the configured one
// (compared in constant time). It holds the secret's hash only. The
// listener must have verified the peer's SVID (go-spiffe's tlsconfig does
// it in the handshake, so VerifiedChains stays empty).
type Approvers struct {
	spiffeIDs []string
	bearer    [sha256.Size]byte
	hasBearer bool
}

var _ Authorizer = (*Approvers)(nil)

// Errors of Approvers.Authorize, for the server's log only: clients get
// one uniform answer.
var (
	ErrNotApprover  = errors.New("not an approver")
	ErrNoCredential = errors.New("no approver credential (mTLS SVID or bearer secret)")
)

// NewApprovers returns the Authorizer for these SPIFFE IDs and bearer
// secret ("": none).
func NewApprovers(spiffeIDs []string, bearer string) *Approvers {
	a := &Approvers{spiffeIDs: slices.Clone(spiffeIDs)}
	if bearer != "" {
		a.bearer, a.hasBearer = sha256.Sum256([]byte(bearer)), true
	}
	return a
}

// Authorize returns the approver's SPIFFE ID, or "bearer" for the secret.
func (a *Approvers) Authorize(r *http.Request) (string, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		id, err := x509svid.IDFromCert(r.TLS.PeerCertificates[0])
		if err != nil {
			return "", ErrNotApprover
		}
		if slices.Contains(a.spiffeIDs, id.String()) {
			return id.String(), nil
		}
		return "", ErrNotApprover
	}
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !a.hasBearer {
		return "", ErrNoCredential
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	if subtle.ConstantTimeCompare(got[:], a.bearer[:]) != 1 {
		return "", ErrNotApprover
	}
	return "bearer", nil
}
