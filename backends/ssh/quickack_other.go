//go:build !linux

package ssh

import "net"

// quickAcker: TCP_QUICKACK is Linux-only (see quickack_linux.go).
func quickAcker(net.Conn) func() { return nil }
