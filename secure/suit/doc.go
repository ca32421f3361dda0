// Package suit implements the SUIT manifest of draft-ietf-suit-manifest-37:
// a strict envelope codec, COSE authentication of the manifest digest, the
// manifest processor (the abstract machine of §6) behind a small Platform
// interface; the author's side (builder, payload encryption, the spec
// format) is package author. It also implements the recipient's side of the
// companion drafts: payload encryption (draft-ietf-suit-firmware-encryption:
// encryption info, AES key unwrap, ECDH-ES, a streaming decryptor that a
// DecryptingPlatform uses), dependencies and trust domains
// (draft-ietf-suit-trust-domains, with an Authorizer that binds keys to
// component prefixes), update management (draft-ietf-suit-update-management,
// through optional platform interfaces) and reports (draft-ietf-suit-report:
// NewReport, Report.Sign, VerifyReport).
//
// Trust: nothing in an envelope is trusted until Envelope.Authenticate has
// checked the manifest digest and at least one authentication block against
// the caller's keys. Only the manifest bytes covered by that digest are then
// decoded; severable members are accepted only when they match the digests
// that the authenticated manifest holds for them. Which signer may do what is
// the caller's policy: Authenticate reports every key that verified, and the
// caller decides whether that set is enough, or hands Process an Authorizer
// that checks every command touching a component. A dependency runs only
// once its envelope authenticates against the Authorizer's keys and its
// manifest digest is the one its dependent names. Payload plaintext exists
// only inside a DecryptingPlatform, and only once authentic.
package suit
