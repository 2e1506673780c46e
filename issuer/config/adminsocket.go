package config

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"github.com/aip-project/aip/internal/keypath"
)

// maxSocketPath is the longest Unix socket path (sun_path holds 108 bytes
// with the terminating NUL on Linux).
const maxSocketPath = 107

// validateAdminSocket checks admins.socket; a group is resolved to its gid
// here, on the machine the issuer runs on.
func validateAdminSocket(p *keypath.Problems, s *AdminSocketFile) *AdminSocket {
	if s == nil {
		return nil
	}
	out := &AdminSocket{Path: s.Path, GID: -1}
	switch {
	case s.Path == "":
		p.Add("admins.socket.path", "is required (e.g. /run/aip/issuer-admin.sock)")
	case len(s.Path) > maxSocketPath:
		p.Add("admins.socket.path", "must be at most %d bytes (the limit of a Unix socket path)", maxSocketPath)
	case strings.HasPrefix(s.Path, "@") || strings.ContainsRune(s.Path, 0):
		p.Add("admins.socket.path", "must be a file path (abstract sockets have no file permissions)")
	}
	for i, uid := range s.AllowedUIDs {
		// 4294967295 is (uid_t)-1, "no user".
		if uid < 0 || uid >= 1<<32-1 {
			p.Add(keypath.Index("admins.socket.allowed_uids", i), "must be a uid (0 to 4294967294)")
			continue
		}
		out.UIDs = append(out.UIDs, uint32(uid))
	}
	if s.Group != "" {
		gid, err := lookupGroup(s.Group)
		if err != nil {
			p.Add("admins.socket.group", "must be a group name known on this machine, or a gid")
		}
		out.GID = gid
	}
	return out
}

// lookupGroup returns the gid of a group name, or a numeric gid as is.
func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		if gid < 0 || gid >= 1<<32-1 {
			return -1, fmt.Errorf("gid %d out of range", gid)
		}
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("group %q: %w", name, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return -1, fmt.Errorf("group %q: gid %q: %w", name, g.Gid, err)
	}
	return gid, nil
}
