package main

import "time"

// maxInput bounds what is read from standard input (a file's size is its
// own bound): the largest envelope with integrated payloads we expect.
const maxInput = 1 << 30

// maxAuditRows bounds the rows teeup tam audit fetches and prints.
const maxAuditRows = 1_000_000

// tamAuthRequestTimeout bounds one call of teeup tam user|token|audit.
const tamAuthRequestTimeout = 2 * time.Minute

// maxTAMKeyAnswer bounds the answer of GET /api/v1/tam-key (a PEM public
// key is a few hundred bytes).
const maxTAMKeyAnswer = 16 << 10

// fleetIdleConns are the connections to the TAM a fleet simulation keeps
// open between its sessions.
const fleetIdleConns = 64
