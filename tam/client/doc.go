// Package client is a Go client of the TAM's operator API (/api/v1/...):
// authors, publish, personalize, devices and status, with a bearer token
// over HTTPS; the CLI's `teeup tam ...` commands are built on it.
//
// Trust: it trusts the TAM it is pointed at only as far as TLS (with the
// CA it is given) authenticates it; it bounds every answer (limits.go)
// and returns the TAM's refusals as typed errors.
package client
