package testfleet

import (
	"os"
	"strconv"
	"strings"
)

// TCP states as the kernel numbers them.
const (
	TCPEstablished = 1
	TCPListen      = 10
)

// TCPSocket is one IPv4 TCP socket from the kernel's table.
type TCPSocket struct {
	Local, Remote string // ip:port
	State         int
	Inode         uint64
}

// OwnSocketInodes lists the inodes of the sockets this process holds open, to tell our
// own connections from those of other processes in ReadTCPSockets' list.
func OwnSocketInodes() (map[uint64]bool, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, e := range entries {
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue
		}
		if rest, ok := strings.CutPrefix(link, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
				out[n] = true
			}
		}
	}
	return out, nil
}
