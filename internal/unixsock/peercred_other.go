//go:build !linux

package unixsock

import (
	"errors"
	"net"
)

// supported is false: Listen refuses, so no socket is served whose peers
// cannot be identified.
const supported = false

// PeerUID is not implemented on this system: SO_PEERCRED is Linux's.
func PeerUID(net.Conn) (uint32, error) {
	return 0, errors.New("peer credentials: not supported on this system")
}
