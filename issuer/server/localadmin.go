package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/internal/unixsock"
	"github.com/aip-project/aip/issuer/oauth"
)

// LocalAdmins says who may call the admin APIs on the Unix socket: local
// users, named by the uid the kernel gives for the connected process.
type LocalAdmins struct {
	// UIDs are the uids allowed; nil: the issuer's own uid.
	UIDs []uint32
	// PeerUID reads the uid of a connection's peer; nil: unixsock.PeerUID
	// (SO_PEERCRED). Tests inject it, as they run as one uid.
	PeerUID func(net.Conn) (uint32, error)
}

func (l *LocalAdmins) setDefaults() error {
	if l.PeerUID == nil {
		l.PeerUID = unixsock.PeerUID
	}
	if l.UIDs == nil {
		uid := os.Getuid()
		if uid < 0 || int64(uid) > int64(^uint32(0)) {
			return fmt.Errorf("issuer server: no uid for the local admins on this system (%d); set them", uid)
		}
		l.UIDs = []uint32{uint32(uid)}
	}
	return nil
}

// peerKey is the request context key of the socket peer.
type peerKey struct{}

// peer is the socket peer of a connection, read once when it is accepted.
type peer struct {
	uid uint32
	err error
}

// withPeer is the admin socket server's ConnContext: it reads the peer's
// credentials when the connection is accepted.
func (s *Server) withPeer(ctx context.Context, c net.Conn) context.Context {
	uid, err := s.cfg.LocalAdmins.PeerUID(c)
	return context.WithValue(ctx, peerKey{}, peer{uid: uid, err: err})
}

// requireLocalAdmin lets through a socket peer whose uid is allowed. No
// peer credentials: 401 with the uniform message; another uid: 403.
func (s *Server) requireLocalAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := c.Request().Context().Value(peerKey{}).(peer)
		switch {
		case !ok:
			return oauth.AuthError(oauth.InvalidToken, "no_peer_credentials", errors.New("not a unix socket connection"))
		case p.err != nil:
			return oauth.AuthError(oauth.InvalidToken, "no_peer_credentials", p.err)
		}
		id := "uid:" + strconv.FormatUint(uint64(p.uid), 10)
		if !slices.Contains(s.cfg.LocalAdmins.UIDs, p.uid) {
			return oauth.New(oauth.AccessDenied, "not_admin", "not an administrator", errors.New(id))
		}
		c.Set(adminKey, id)
		return next(c)
	}
}
