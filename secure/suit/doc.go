// Package suit implements the SUIT manifest of draft-ietf-suit-manifest-37:
// a strict envelope codec, COSE authentication of the manifest digest, the
// manifest processor (the abstract machine of §6) behind a small Platform
// interface, and the author-side builder.
//
// Trust: nothing in an envelope is trusted until Envelope.Authenticate has
// checked the manifest digest and at least one authentication block against
// the caller's keys. Only the manifest bytes covered by that digest are then
// decoded; severable members are accepted only when they match the digests
// that the authenticated manifest holds for them. Which signer may do what is
// the caller's policy: Authenticate reports every key that verified, and the
// caller decides whether that set is enough.
package suit
