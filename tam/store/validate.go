package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/teeup/teeup/secure/suit"
)

// The Validate methods are the store's own rules for a record: keys
// present, fields within limits.go, enumerations known, texts that every
// backend can keep (valid UTF-8 without NUL, which PostgreSQL refuses),
// times a backend can keep to the nanosecond. Every backend calls them
// before it writes, so that a record refused by one is refused by all;
// the errors wrap ErrInvalid.

// Validate checks a before it is stored.
func (a Author) Validate() error {
	return firstError(
		key("author name", a.Name),
		oneOf("author kind", string(a.Kind), string(TAAuthor), string(FirmwareAuthor), string(Operator)),
		blob("author key", a.Key, 1, MaxBlob),
		components("author prefix", a.Prefixes),
		when("author created", a.Created),
	)
}

// Validate checks e before it is stored; its Digest must be the SHA-256 of
// its Raw bytes.
func (e Envelope) Validate() error {
	if err := firstError(
		blob("envelope digest", e.Digest, DigestSize, DigestSize),
		oneOf("envelope kind", string(e.Kind), string(TAEnvelope), string(FirmwareEnvelope), string(PersonalizationEnvelope)),
		components("envelope component", e.Components),
		key("envelope author", e.Author),
		text("envelope device", e.Device, MaxKey),
		blob("envelope", e.Raw, 1, MaxEnvelope),
		digests("envelope payload", e.Payloads),
		blob("envelope reference", e.Reference, 0, MaxBlob),
		when("envelope published", e.Published),
	); err != nil {
		return err
	}
	if sum := sha256.Sum256(e.Raw); !bytes.Equal(sum[:], e.Digest) {
		return fmt.Errorf("%w: envelope digest %x is not the SHA-256 of its bytes (%x)", ErrInvalid, e.Digest, sum)
	}
	return nil
}

// ValidatePayload checks a payload and the digest it is stored under.
func ValidatePayload(digest, data []byte) error {
	if err := firstError(
		blob("payload digest", digest, DigestSize, DigestSize),
		blob("payload", data, 0, MaxPayload),
	); err != nil {
		return err
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], digest) {
		return fmt.Errorf("%w: payload digest %x is not the SHA-256 of its bytes (%x)", ErrInvalid, digest, sum)
	}
	return nil
}

// Validate checks d before it is stored.
func (d Device) Validate() error {
	return firstError(
		key("device id", d.ID),
		text("device name", d.Name, MaxKey),
		blob("device agent key", d.AgentKey, 1, MaxBlob),
		blob("device agreement key", d.AgreementKey, 0, MaxBlob),
		blob("device endorsement", d.Endorsement, 0, MaxBlob),
		blob("device reference", d.Reference, 0, MaxBlob),
		when("device registered", d.Registered),
		when("device last seen", d.LastSeen),
		d.Attestation.Validate(),
		ValidateTCs(d.TCs),
		text("device last error", d.LastError, MaxText),
	)
}

// Validate checks a before it is stored.
func (a Attestation) Validate() error {
	return firstError(
		when("attestation time", a.Time),
		text("attestation status", a.Status, MaxKey),
		blob("attestation EAR", a.EAR, 0, MaxBlob),
		text("attestation reason", a.Reason, MaxText),
	)
}

// ValidateTCs checks a tc-list before it is stored.
func ValidateTCs(tcs []InstalledTC) error {
	if len(tcs) > MaxItems {
		return fmt.Errorf("%w: %d installed TCs, more than %d", ErrInvalid, len(tcs), MaxItems)
	}
	for _, tc := range tcs {
		if err := firstError(
			component("installed TC", tc.Component),
			blob("installed TC digest", tc.Digest, 0, MaxKey),
		); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks s before it is stored.
func (s Session) Validate() error {
	return firstError(
		blob("session token", s.Token, 1, MaxKey),
		ValidState(s.State),
		text("session device", s.Device, MaxKey),
		blob("session challenge", s.Challenge, 0, MaxKey),
		digests("session envelope", s.Envelopes),
		when("session created", s.Created),
		when("session expires", s.Expires),
	)
}

// ValidState checks a session state.
func ValidState(st SessionState) error {
	return oneOf("session state", string(st), string(QuerySent), string(UpdateSent), string(Done))
}

// Validate checks r before it is stored.
func (r Report) Validate() error {
	if len(r.SUITReports) > MaxSUITReports {
		return fmt.Errorf("%w: %d SUIT reports, more than %d", ErrInvalid, len(r.SUITReports), MaxSUITReports)
	}
	for _, rep := range r.SUITReports {
		if err := blob("SUIT report", rep, 0, MaxBlob); err != nil {
			return err
		}
	}
	return firstError(
		key("report device", r.Device),
		when("report time", r.Time),
		digests("report envelope", r.Envelopes),
		text("report error message", r.ErrMsg, MaxText),
	)
}

// Validate checks p before it is stored.
func (p Principal) Validate() error {
	if len(p.Roles) > MaxItems {
		return fmt.Errorf("%w: %d roles, more than %d", ErrInvalid, len(p.Roles), MaxItems)
	}
	for _, r := range p.Roles {
		if err := oneOf("role", string(r), string(RoleTAAuthor), string(RoleFirmwareAuthor), string(RoleOperator), string(RoleViewer)); err != nil {
			return err
		}
	}
	return firstError(
		key("principal name", p.Name),
		text("principal author", p.Author, MaxKey),
		blob("password hash", p.PasswordHash, 0, MaxText),
		when("principal created", p.Created),
	)
}

// Validate checks t before it is stored.
func (t Token) Validate() error {
	return firstError(
		key("token id", t.ID),
		key("token principal", t.Principal),
		blob("token hash", t.Hash, 1, MaxKey),
		when("token created", t.Created),
		when("token expires", t.Expires),
		when("token revoked", t.Revoked),
	)
}

// Validate checks s before it is stored.
func (s LoginSession) Validate() error {
	return firstError(
		blob("login session hash", s.Hash, 1, MaxKey),
		key("login session principal", s.Principal),
		blob("login session CSRF", s.CSRF, 0, MaxKey),
		when("login session created", s.Created),
		when("login session expires", s.Expires),
	)
}

// Validate checks e before it is appended (its Seq is the store's).
func (e AuditEntry) Validate() error {
	return firstError(
		when("audit time", e.Time),
		text("audit principal", e.Principal, MaxKey),
		key("audit action", e.Action),
		text("audit target", e.Target, MaxText),
		text("audit result", e.Result, MaxText),
		text("audit detail", e.Detail, MaxText),
	)
}

// ValidTime checks that t is zero or a time every backend keeps to the
// nanosecond: after 1677-09-21T00:12:43.145224192Z (which backends may use
// for the zero time) and up to 2262-04-11T23:47:16.854775807Z.
func ValidTime(what string, t time.Time) error { return when(what, t) }

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func when(what string, t time.Time) error {
	if !t.IsZero() && (!t.After(minTime) || t.After(maxTime)) {
		return fmt.Errorf("%w: %s %v out of range", ErrInvalid, what, t)
	}
	return nil
}

// key is a non-empty text identifier.
func key(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s empty", ErrInvalid, what)
	}
	return text(what, s, MaxKey)
}

func text(what, s string, limit int) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("%w: %s of %d bytes, more than %d", ErrInvalid, what, len(s), limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s not UTF-8", ErrInvalid, what)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%w: %s holds a NUL byte", ErrInvalid, what)
	}
	return nil
}

func blob(what string, b []byte, least, most int) error {
	if len(b) < least || len(b) > most {
		if least == most {
			return fmt.Errorf("%w: %s of %d bytes, not %d", ErrInvalid, what, len(b), least)
		}
		return fmt.Errorf("%w: %s of %d bytes, not %d to %d", ErrInvalid, what, len(b), least, most)
	}
	return nil
}

func oneOf(what, s string, allowed ...string) error {
	for _, a := range allowed {
		if s == a {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %q unknown", ErrInvalid, what, s)
}

func components(what string, cs []suit.ComponentID) error {
	if len(cs) > MaxItems {
		return fmt.Errorf("%w: %d of %s, more than %d", ErrInvalid, len(cs), what, MaxItems)
	}
	for _, c := range cs {
		if err := component(what, c); err != nil {
			return err
		}
	}
	return nil
}

func component(what string, c suit.ComponentID) error {
	if len(c) == 0 || len(c) > MaxComponentParts {
		return fmt.Errorf("%w: %s of %d parts, not 1 to %d", ErrInvalid, what, len(c), MaxComponentParts)
	}
	for _, p := range c {
		if err := blob(what+" part", p, 0, MaxKey); err != nil {
			return err
		}
	}
	return nil
}

func digests(what string, ds [][]byte) error {
	if len(ds) > MaxItems {
		return fmt.Errorf("%w: %d of %s, more than %d", ErrInvalid, len(ds), what, MaxItems)
	}
	for _, d := range ds {
		if err := blob(what+" digest", d, DigestSize, DigestSize); err != nil {
			return err
		}
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ValidText checks a text field of at most limit bytes.
func ValidText(what, s string, limit int) error { return text(what, s, limit) }

// ValidAdvance checks that a session may move from one state to another:
// only forward (query to update or done, update to done), so that a
// spent token or challenge never becomes usable again.
func ValidAdvance(from, to SessionState) error {
	if err := errors.Join(ValidState(from), ValidState(to)); err != nil {
		return err
	}
	rank := map[SessionState]int{QuerySent: 0, UpdateSent: 1, Done: 2}
	if rank[to] <= rank[from] {
		return fmt.Errorf("%w: session cannot move from %s to %s", ErrInvalid, from, to)
	}
	return nil
}
