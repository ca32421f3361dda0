package catalog

import (
	"errors"
	"fmt"
)

// Refusals, matched with errors.Is; api.go maps each to its HTTP status.
var (
	// ErrInvalid: malformed input (a key, a prefix, an envelope, a part
	// of a multipart body); 400. A body that is not the JSON expected, or
	// a multipart body that does not parse, is apijson.ErrMalformed; 400
	// too.
	ErrInvalid = errors.New("catalog: invalid input")
	// ErrTooLarge: input over its bound (limits.go); 413. A body over
	// its bound is apijson.ErrTooLarge; 413 too.
	ErrTooLarge = errors.New("catalog: input too large")
	// ErrTooLargeForTEEP: an envelope that no TEEP Update could carry
	// (teep.FitsOneUpdate), though within MaxEnvelope; a TAM delivers an
	// envelope only in an Update, so it could never be sent; 413.
	ErrTooLargeForTEEP = fmt.Errorf("%w: the envelope does not fit in one TEEP Update", ErrTooLarge)
	// ErrNotAuthor: the principal publishing is not the author it
	// publishes as, or holds no role that publishes; 403.
	ErrNotAuthor = errors.New("catalog: the principal is not that author")
	// ErrUnknownAuthor: no author registered under that name; 403 on
	// publish (nobody may publish as it), 404 elsewhere.
	ErrUnknownAuthor = errors.New("catalog: unknown author")
	// ErrSignature: the envelope does not verify with its author's key;
	// 403.
	ErrSignature = errors.New("catalog: the envelope does not verify with the author's key")
	// ErrOutsidePrefixes: the envelope touches a component outside its
	// author's prefixes, or its author's kind may not publish it; 403.
	ErrOutsidePrefixes = errors.New("catalog: a component outside the author's prefixes")
	// ErrNoCoSignature: a secure-image envelope without a valid
	// co-signature of a registered operator; 403.
	ErrNoCoSignature = errors.New("catalog: the secure image lacks a registered operator's co-signature")
	// ErrPayloadDigest: a payload whose SHA-256 is none of the manifest's
	// image digests; 400.
	ErrPayloadDigest = errors.New("catalog: a payload's digest is not in the manifest")
	// ErrExists: the author, device or envelope is registered already;
	// 409.
	ErrExists = errors.New("catalog: already exists")
	// ErrUnknownDevice: no device registered under that ID; 404.
	ErrUnknownDevice = errors.New("catalog: unknown device")
	// ErrUnknownTC: personalization for a TC no envelope published; 404.
	ErrUnknownTC = errors.New("catalog: unknown trusted component")
	// ErrNoAgreementKey: the device registered no key-agreement key, so
	// nothing can be encrypted to it; 409.
	ErrNoAgreementKey = errors.New("catalog: the device has no key-agreement key")
	// ErrNotWithdrawable: a withdrawal of a component that is not a TA (a
	// firmware component, a TA's personalization); 422.
	ErrNotWithdrawable = errors.New("catalog: only a TA can be withdrawn")
	// ErrNotWithdrawn: the end of a withdrawal of a TA that is not
	// withdrawn; 404.
	ErrNotWithdrawn = errors.New("catalog: the TA is not withdrawn")
)
