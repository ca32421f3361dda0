// Package fetch downloads firmware payloads for the normal world and streams
// them, chunk by chunk and in order, to a sink that hands them on to the
// secure world.
//
// The network is assumed to be flaky and hostile, so the package is about
// robustness and bounds: a dropped or stalled connection is resumed with an
// HTTP Range request from the last byte the sink accepted, transient
// failures are retried a bounded number of times with capped exponential
// backoff, permanent ones are not retried, and exactly the number of bytes
// the manifest declares is delivered: never a byte more, each byte once.
//
// Trust: none. The package trusts nothing in the bytes, the status codes or
// the headers it receives; it only refuses answers that break the bounds or
// HTTP's range rules. Whether the bytes are the right ones is decided by the
// secure world, which checks the payload digest from the signed SUIT
// manifest after the last chunk. In particular a server that changes the
// payload between two attempts, or answers with someone else's bytes, makes
// the digest check fail there; this package notices only the cases HTTP
// lets it see (a changed strong ETag).
package fetch
