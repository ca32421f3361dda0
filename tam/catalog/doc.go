// Package catalog is what the TAM holds and serves: the registered
// authors and the envelopes they publish (each checked against its
// author's key and prefixes, a secure image also against a registered
// operator's co-signature), the detached payloads served by digest with
// Range and ETag so that downloads resume, the personalization data the
// TAM encrypts to one device and signs, the registered devices, and their
// status. It also holds the operator API's handlers for these (api.go),
// which the auth gate of tam/auth guards.
//
// Trust: it trusts its store and the principal the auth gate put in the
// request's context; it trusts nothing of a request body: every envelope
// is verified with its registered author's key and authorized by
// secure/keys before anything is stored, every payload is hashed, and
// every body is bounded (limits.go).
package catalog
