//go:build !linux

package testfleet

import "errors"

// ReadTCPSockets needs Linux's sock_diag (see sockets.go).
func ReadTCPSockets(states ...int) ([]TCPSocket, error) {
	return nil, errors.New("testfleet: reading the socket table needs Linux")
}
