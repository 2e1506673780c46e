//go:build unix

package sidecar

import (
	"errors"
	"net"
	"syscall"
)

// alive reports whether an idle connection can carry a request: the
// server has neither closed it nor sent anything unasked. It peeks
// without blocking (one recvfrom, MSG_PEEK|MSG_DONTWAIT): nothing to read
// means alive; end of stream, data or an error mean not.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	var b [1]byte
	if err := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true // never wait for readiness
	}); err != nil {
		return false
	}
	return ok
}
