package store

import (
	"context"
	"errors"
	"time"

	"github.com/teeup/teeup/secure/suit"
)

// Errors every backend returns, matched with errors.Is.
var (
	// ErrNotFound: no record under that key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record under that key exists already.
	ErrExists = errors.New("store: already exists")
	// ErrConflict: the record is not in the state the caller expected
	// (a session used twice, a token already revoked).
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid: a record that breaks the store's own rules (an empty
	// key, a field over its limit).
	ErrInvalid = errors.New("store: invalid record")
)

// Store is all of the TAM's state.
type Store interface {
	Authors
	Envelopes
	Payloads
	Devices
	Sessions
	Reports
	Answers
	SessionLogs
	Principals
	Audit
	Fleet
	FleetStatus
	Withdrawals
	// Close releases the backend.
	Close() error
}

// AuthorKind is what an author may publish.
type AuthorKind string

// The kinds of author.
const (
	// TAAuthor publishes TAs inside its prefixes.
	TAAuthor AuthorKind = "ta"
	// FirmwareAuthor publishes secure and normal images inside its
	// prefixes; a secure image also needs an operator's co-signature.
	FirmwareAuthor AuthorKind = "firmware"
	// Operator co-signs secure images.
	Operator AuthorKind = "operator"
)

// Author is a registered signer of envelopes.
type Author struct {
	Name string
	Kind AuthorKind
	// Key is the public key, PKIX DER.
	Key []byte
	// Prefixes are the component identifiers (prefixes) it may publish.
	Prefixes []suit.ComponentID
	Created  time.Time
}

// Authors are the registered signers.
type Authors interface {
	AddAuthor(ctx context.Context, a Author) error // ErrExists
	Author(ctx context.Context, name string) (Author, error)
	// ListAuthors is every author, by name.
	ListAuthors(ctx context.Context) ([]Author, error)
}

// EnvelopeKind is what an envelope installs.
type EnvelopeKind string

// The kinds of envelope.
const (
	TAEnvelope              EnvelopeKind = "ta"
	FirmwareEnvelope        EnvelopeKind = "firmware"
	PersonalizationEnvelope EnvelopeKind = "personalization"
)

// Envelope is a published SUIT envelope.
type Envelope struct {
	// Digest is SHA-256 of the envelope as stored: its key.
	Digest []byte
	Kind   EnvelopeKind
	// Components are the components it installs.
	Components     []suit.ComponentID
	SequenceNumber uint64
	// Author is who published it ("tam" for personalization manifests
	// the TAM signs).
	Author string
	// Device is the one device a personalization envelope is for; empty
	// for an envelope every device may receive.
	Device string
	// Raw is the envelope, without integrated payloads.
	Raw []byte
	// Payloads are the SHA-256 digests of the detached payloads it names.
	Payloads [][]byte
	// Reference is the reference values (attest/comid JSON) of what it
	// installs; nil when none (personalization data is not claimed).
	Reference []byte
	Published time.Time
	// Held envelopes are delivered only through a rollout of a release
	// that holds them, never by LatestFor.
	Held bool
}

// Envelopes are the published envelopes.
type Envelopes interface {
	// PutEnvelope stores e; ErrExists when its digest is stored, ErrInvalid
	// when Digest is not the SHA-256 of Raw.
	PutEnvelope(ctx context.Context, e Envelope) error
	Envelope(ctx context.Context, digest []byte) (Envelope, error)
	// LatestFor is, for each component, the envelope with the highest
	// sequence number that device may receive (Device empty or equal).
	// On a tie the envelope for this device wins, then the one published
	// last, then the lowest digest. Each envelope appears once, in the
	// order of ListEnvelopes. Held envelopes are left out.
	LatestFor(ctx context.Context, device string) ([]Envelope, error)
	// ListEnvelopes is every envelope by Published, then by digest.
	ListEnvelopes(ctx context.Context) ([]Envelope, error)
}

// Payloads are detached payloads, by SHA-256.
type Payloads interface {
	// PutPayload stores data under its SHA-256 (the store computes it and
	// refuses a digest that does not match: ErrInvalid). Storing the same
	// payload again is not an error.
	PutPayload(ctx context.Context, digest, data []byte) error
	Payload(ctx context.Context, digest []byte) ([]byte, error)
}

// InstalledTC is a component a device reported in its tc-list.
type InstalledTC struct {
	Component      suit.ComponentID
	SequenceNumber uint64
	Digest         []byte // encoded SUIT_Digest, nil when not reported
}

// Attestation is the last appraisal of a device's evidence.
type Attestation struct {
	Time time.Time
	// Status is the AR4SI trust tier: "affirming", "warning",
	// "contraindicated" or "none".
	Status string
	// EAR is the signed attestation result (a JWT), nil when none.
	EAR    []byte
	Reason string
}

// Device is a registered device and what it last told the TAM.
type Device struct {
	// ID is the lowercase hex of the RFC 9679 thumbprint of its Agent key.
	ID   string
	Name string
	// AgentKey is the TEEP Agent's public key, PKIX DER.
	AgentKey []byte
	// AgreementKey is the device's P-256 key-agreement public key, PKIX
	// DER, that personalization data is encrypted to; nil when not
	// registered.
	AgreementKey []byte
	// Endorsement is its endorsement (attest/comid JSON).
	Endorsement []byte
	// Reference is the reference values of its factory images, nil when
	// none.
	Reference  []byte
	Registered time.Time

	LastSeen    time.Time
	Attestation Attestation
	TCs         []InstalledTC
	LastError   string
}

// Devices are the registered devices.
type Devices interface {
	// AddDevice stores d with every field as given; ErrExists.
	AddDevice(ctx context.Context, d Device) error
	Device(ctx context.Context, id string) (Device, error)
	// The Record methods change one registered device (ErrNotFound for
	// another) and nothing else of it.
	//
	// RecordTCs replaces the device's tc-list and its last-seen time.
	RecordTCs(ctx context.Context, id string, tcs []InstalledTC, seen time.Time) error
	RecordAttestation(ctx context.Context, id string, a Attestation) error
	// RecordError sets the device's last error; empty clears it.
	RecordError(ctx context.Context, id, msg string) error
}

// SessionState is where a TEEP session is.
type SessionState string

// The states of a session, in order.
const (
	// QuerySent: the QueryRequest went out; its token and challenge wait
	// for the QueryResponse.
	QuerySent SessionState = "query"
	// UpdateSent: the Update went out; its token waits for Success or
	// Error.
	UpdateSent SessionState = "update"
	// Done: the session is over; its token and challenge are spent.
	Done SessionState = "done"
)

// Session is one TEEP session, keyed by the token of its last message.
type Session struct {
	Token     []byte
	State     SessionState
	Device    string // empty until the QueryResponse names it
	Challenge []byte
	// Numbering is the TEEP codepoint numbering the session speaks
	// (secure/teep.Numbering).
	Numbering uint8
	// Envelopes are the digests of the envelopes the Update carried.
	Envelopes [][]byte
	Created   time.Time
	Expires   time.Time
}

// Sessions are the TEEP sessions in flight.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error // ErrExists
	// Session is the session stored under token, expired or not.
	Session(ctx context.Context, token []byte) (Session, error)
	// AdvanceSession replaces the session stored under s.Token with s if
	// the stored one is in state from and not expired at now (now before
	// its Expires); otherwise ErrConflict (a replay, or two replicas
	// racing) and nothing changes. ErrNotFound when no session has that
	// token (never created, or deleted as expired). A session only moves
	// forward (from QuerySent to UpdateSent or Done, from UpdateSent to
	// Done; ErrInvalid otherwise): a spent token never comes back.
	AdvanceSession(ctx context.Context, s Session, from SessionState, now time.Time) error
	// DeleteExpiredSessions drops sessions expired at now (Expires not
	// after now) and says how many, logging those whose Update got no
	// answer (SessionLogs).
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Report is what a device answered to an Update.
type Report struct {
	Device  string
	Time    time.Time
	Success bool
	// Envelopes are the digests of the envelopes the Update carried.
	Envelopes [][]byte
	// SUITReports are the SUIT reports the answer carried.
	SUITReports [][]byte
	// Error is the TEEP error code and message of an Error answer.
	ErrCode uint64
	ErrMsg  string
}

// Reports are the devices' answers.
type Reports interface {
	// AddReport appends r; ErrNotFound when its device is not registered.
	AddReport(ctx context.Context, r Report) error
	// Reports are the last limit reports of a device, newest first (by
	// Time, then the later added). limit must be positive (ErrInvalid) and
	// is clamped to MaxPage; ErrNotFound when the device is not registered.
	Reports(ctx context.Context, device string, limit int) ([]Report, error)
}
