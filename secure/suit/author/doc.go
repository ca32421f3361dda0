// Package author is the author's side of SUIT: it builds unsigned
// envelopes from a declared Manifest (Build, BuildDetached), encrypts
// payloads for their recipients (EncryptPayload,
// draft-ietf-suit-firmware-encryption), and reads the SPEC.json format in
// which a user declares a manifest (LoadSpec). Sign what it builds with
// suit.Envelope.Sign.
//
// Trust: an author trusts its own inputs (the spec, the payload files, the
// keys); nothing here runs on a device or decides whether an envelope may
// be installed. Package suit decodes, authenticates and processes what
// this package writes, and its tests run the two against each other.
package author
