// Package teep is the codec of the TEEP protocol (draft-ietf-teep-protocol-26,
// RFC 9397 architecture): the messages QueryRequest, QueryResponse, Update,
// Success and Error as Go values, their CBOR encoding and decoding, and
// their COSE_Sign1 wrapping. It is pure: bytes in, bytes out, no I/O, no
// clock, usable by the TEEP Agent in the secure world and by a TAM alike.
//
// Two codepoint numberings exist (see Numbering): draft-26, the default,
// and the earlier one every implementation deployed before 2026 speaks.
// Decode tells which numbering a message was in so that an Agent can
// answer in the numbering it was asked in; DecodeAs and Encode take the
// numbering a peer is known to use.
//
// Agent is the TEEP Agent's state machine on top of the codec: a
// QueryRequest is answered with attestation evidence bound to its
// challenge and the installed TCs; an Update unlinks, then installs its
// manifests as one install set; tokens and challenges are single-use and
// expire (the clock is injected). What it needs of the device (evidence,
// the TA store) comes through the Attester and TrustedComponents
// interfaces, which the secure world implements.
//
// Trust: the package trusts nothing it decodes. Every message is bounded
// (limits.go) and parsed strictly (one decode mode: duplicate map keys,
// indefinite lengths, trailing bytes and over-deep nesting refused).
// Open trusts only the public keys its caller hands it, and the COSE
// rules of secure/suit, whose COSE_Sign1 code it shares; it trusts the Go
// standard library's cryptography and fxamacker/cbor for well-formedness.
package teep
