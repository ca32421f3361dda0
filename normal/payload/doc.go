// Package payload streams the payloads the secure world asks for into it:
// each is read from a local file or downloaded (normal/fetch, resumable)
// and written in chunks under the update set the secure world opened,
// then finished, which makes the secure world check its digest. The
// normal world's update agent (normal/agent, after StartUpdate) and its
// TEEP Broker (normal/broker, after RelayTEEP) both use it, and both
// cancel the set through it when anything fails, so that the secure
// world is left idle.
//
// Trust: none in the bytes. The secure world checks every payload
// against the digest of its signed manifest; this package only moves
// bytes and never holds a key.
package payload
