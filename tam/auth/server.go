package auth

import "net/http"

// HardenServer sets srv's slow-client bounds (limits.go): a client that
// trickles its headers or body, or never reads the answer, is cut off.
func HardenServer(srv *http.Server) {
	srv.ReadHeaderTimeout = ReadHeaderTimeout
	srv.ReadTimeout = ReadTimeout
	srv.WriteTimeout = WriteTimeout
	srv.IdleTimeout = IdleTimeout
	srv.MaxHeaderBytes = MaxHeaderBytes
}
