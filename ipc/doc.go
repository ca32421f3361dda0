// Package ipc is the channel between the two worlds of a device: the
// normal world (client: broker, downloader, status tracker) and the secure
// world (server: update service, TEEP Agent, key owner), two OS processes
// joined by a Unix socket pair, or one process over ipctest.Pipe in tests.
//
// The normal world only forwards. Its command set is narrow, modelled on
// the PSA Firmware Update API (Query, StartUpdate, WriteChunk, Finish,
// Install, Cancel, Clean, Accept, Reject) and the GlobalPlatform TEE
// Client API (RelayTEEP, GetEvidence), with DeviceStatus for the
// operator: envelopes, payload bytes and TEEP messages go in, states,
// payload requests, TEEP messages, evidence and status come out. Each
// operation is one row of the op table (optable.go). Nothing here reads
// keys or flash; the Handler behind Serve does, in the secure world.
//
// Trust: the secure world trusts nothing the peer sends. Serve refuses
// every frame and message that is not exactly what this version defines
// (see "The wire format" in wire.go) before a Handler sees it, answers with
// a typed protocol error, and never panics or allocates without bound on
// any input. The Handler still checks every value it gets (signatures,
// digests, order, ranges), since a well-formed request may still be a lie.
// The client checks responses just as strictly, so that a faulty secure
// world cannot make the normal world misbehave either.
//
// Bounds (limits.go): a frame is at most MaxFrame bytes (one MaxChunk of
// payload plus headers), each field and count has its own bound, the CBOR
// decoder bounds nesting and counts, and a session serves at most
// MaxRequestsPerSession requests and reads at most MaxSessionBytes.
//
// Errors: every error is an *Error saying where it arose (Transport,
// Protocol, Secure) and its Code; test them with errors.Is against the
// sentinels (ErrBadState, ErrProtocol, ...).
package ipc
