// Package broker is the device's TEEP Broker (RFC 9397 §4.4), speaking
// TEEP over HTTP to a TAM as draft-ietf-teep-otrp-over-http describes: an
// empty POST to {tam}/tam opens a session; each 200 answer carries the
// next TEEP message (application/teep+cbor), which the broker relays to
// the TEEP Agent in the secure world over ipc, and POSTs the Agent's
// answer back; a 204, or an Agent with nothing more to say, ends the
// session. When the Agent's answer asks for payloads, the broker
// downloads them (normal/fetch, resumable) and streams them into the
// install set the Agent opened (normal/payload), then asks the Agent to
// continue; any failure in between cancels the set, so the secure world
// is left idle.
//
// Between sessions the broker polls: a session every interval, and one
// at once when the TAM's long poll ({tam}/tam/poll) says it has something
// for this device.
//
// Trust: none. The broker never decodes a TEEP message (they are signed
// COSE objects that only the Agent and the TAM judge), never holds a key
// and never sees a plaintext; it only bounds what it reads and relays it.
// A hostile TAM or network can make a session fail, never make the secure
// world accept anything: every message and payload is checked there.
package broker
