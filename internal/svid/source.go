package svid

import (
	"context"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// NewX509Source opens an X509 source on the Workload API at addr. When a
// workload matches several registration entries, SPIRE gives it several
// SVIDs in no meaningful order (by entry id); id, when not zero, names
// the one the source serves, across rotations. The source is returned
// only once it holds that SVID.
func NewX509Source(ctx context.Context, addr string, id spiffeid.ID) (*workloadapi.X509Source, error) {
	opts := []workloadapi.X509SourceOption{workloadapi.WithClientOptions(workloadapi.WithAddr(addr))}
	if !id.IsZero() {
		opts = append(opts, workloadapi.WithDefaultX509SVIDPicker(Pick(id)))
	}
	src, err := workloadapi.NewX509Source(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("spiffe workload api %s: %w", addr, err)
	}
	if _, err := src.GetX509SVID(); err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("spiffe workload api %s: no X509-SVID for %s: %w", addr, id, err)
	}
	return src, nil
}

// Pick returns a picker choosing the SVID of id, or nil (no SVID: every
// handshake then fails) when the Workload API does not give it.
func Pick(id spiffeid.ID) func([]*x509svid.SVID) *x509svid.SVID {
	return func(svids []*x509svid.SVID) *x509svid.SVID {
		for _, s := range svids {
			if s.ID == id {
				return s
			}
		}
		return nil
	}
}
