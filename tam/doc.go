// Package tam is the Trusted Application Manager's server: one HTTP
// handler that joins the TEEP endpoint and long poll (tam/teepsrv), the
// TAM's public key, and the operator API (issue 14's catalog, issue 17's
// gate), over one store (tam/store). The route table in server.go is the
// whole HTTP surface; `teeup tam serve` runs it.
//
// Trust: the TEEP routes authenticate by the signatures inside their
// messages; the operator API only behind the gate (Config.Gate), which
// authenticates, authorizes and audits; the TAM key's public half is
// public. The server trusts its store, its key file and its clock.
package tam
