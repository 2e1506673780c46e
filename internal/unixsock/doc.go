// Package unixsock serves a local API on a Unix domain socket, as SPIRE
// serves its admin API: Listen creates the socket with a fixed mode (0600,
// or 0660 for a configured group), creates a missing parent directory
// private, replaces a stale socket and refuses anything else found at the
// path; PeerUID reads the uid of the connected process from the kernel
// (SO_PEERCRED), which is what a caller on the socket is authorized by.
//
// It never takes a path or an identity from a peer: the path is the
// operator's configuration and the uid is the kernel's.
package unixsock
