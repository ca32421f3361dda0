package ipctest

import "net"

// Pipe returns the two ends of an in-memory, synchronous, full-duplex
// connection (net.Pipe): give normal to ipc.NewClient and secure to
// ipc.Serve. Deadlines work, so Serve's cancellation does.
func Pipe() (normal, secure net.Conn) {
	return net.Pipe()
}
