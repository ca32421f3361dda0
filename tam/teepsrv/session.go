package teepsrv

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// Handle processes one POSTed body and returns the TAM's signed answer,
// or nil when there is none (HTTP 204). An empty body opens a session.
//
// A refusal wraps ErrRefused. When the message verified with a registered
// device's key, the refusal comes with an answer: a signed TEEP Error
// that says why. A message that did not verify gets no answer (telling an
// unauthenticated sender anything helps only an attacker). Any other
// error is a fault of the TAM (its store, its randomness); a refused or
// failed message changes nothing in the store.
func (s *Server) Handle(ctx context.Context, body []byte) ([]byte, error) {
	if len(body) == 0 {
		return s.begin(ctx)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w: message of %d bytes, at most %d", ErrMalformed, len(body), MaxBody)
	}
	dev, key, err := s.sender(ctx, body)
	if err != nil {
		return nil, err
	}
	signed, err := teep.Open(body, []*suit.Key{key}, s.cfg.Numbering)
	switch {
	case errors.Is(err, teep.ErrSignature), errors.Is(err, teep.ErrAlgorithm):
		return nil, fmt.Errorf("%w: device %s: %w", ErrUnsigned, dev.ID, err)
	case err != nil:
		if _, verr := suit.OpenSign1(body, []*suit.Key{key}, teep.AcceptedAlgs...); verr != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		// The device signed it: tell it what is wrong.
		return s.refuse(nil, s.cfg.Numbering, teep.ErrPermanentError, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	switch m := signed.Message.(type) {
	case *teep.QueryResponse:
		return s.queryResponse(ctx, dev, m)
	case *teep.Success:
		return s.outcome(ctx, dev, m.Token, &store.Report{Success: true, SUITReports: m.SUITReports})
	case *teep.Error:
		return s.outcome(ctx, dev, m.Token, &store.Report{SUITReports: m.SUITReports,
			ErrCode: uint64(m.Code), ErrMsg: m.ErrMsg})
	default:
		return s.refuse(tokenOf(m), s.cfg.Numbering, teep.ErrPermanentError,
			fmt.Errorf("%w: a %s sent to the TAM", ErrUnexpected, m.Type()))
	}
}

// sender finds the registered device whose Agent key the message's kid
// names, and that key; the kid is the device's ID.
func (s *Server) sender(ctx context.Context, body []byte) (store.Device, *suit.Key, error) {
	kid, err := peekKID(body)
	if err != nil {
		return store.Device{}, nil, err
	}
	id := hex.EncodeToString(kid)
	dev, err := s.cfg.Store.Device(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Device{}, nil, fmt.Errorf("%w: kid %s", ErrUnknownDevice, id)
	case err != nil:
		return store.Device{}, nil, fmt.Errorf("teepsrv: device %s: %w", id, err)
	}
	pub, err := x509.ParsePKIXPublicKey(dev.AgentKey)
	if err != nil {
		return store.Device{}, nil, fmt.Errorf("teepsrv: device %s: registered Agent key: %w", id, err)
	}
	// The ID is the key's thumbprint; a record where it is not would let
	// one device's kid select another's key.
	if tp, err := teep.Thumbprint(pub); err != nil || !bytes.Equal(tp, kid) {
		return store.Device{}, nil, fmt.Errorf("teepsrv: device %s: its ID is not its Agent key's thumbprint", id)
	}
	key, err := suit.NewPublicKey(pub)
	if err != nil {
		return store.Device{}, nil, fmt.Errorf("teepsrv: device %s: registered Agent key: %w", id, err)
	}
	return dev, key, nil
}

// begin opens a session: a fresh token and challenge, stored, and the
// QueryRequest that carries them.
func (s *Server) begin(ctx context.Context) ([]byte, error) {
	token, challenge := make([]byte, TokenSize), make([]byte, ChallengeSize)
	if _, err := io.ReadFull(s.cfg.Rand, token); err != nil {
		return nil, fmt.Errorf("teepsrv: draw token: %w", err)
	}
	if _, err := io.ReadFull(s.cfg.Rand, challenge); err != nil {
		return nil, fmt.Errorf("teepsrv: draw challenge: %w", err)
	}
	n := s.cfg.Numbering
	msg, err := teep.Sign(&teep.QueryRequest{
		Token:            token,
		Challenge:        challenge,
		DataItems:        teep.DataAttestation | teep.DataTrustedComponents,
		CipherSuites:     s.suites,
		SUITCOSEProfiles: []teep.SUITCOSEProfile{teep.ProfileESP256A128CTR, teep.ProfileESP256A128GCM},
	}, n, s.sign)
	if err != nil {
		return nil, fmt.Errorf("teepsrv: sign QueryRequest: %w", err)
	}
	now := s.cfg.Now()
	err = s.cfg.Store.CreateSession(ctx, store.Session{Token: token, State: store.QuerySent, Challenge: challenge,
		Numbering: uint8(n), Created: now, Expires: now.Add(s.cfg.SessionLifetime)})
	if err != nil {
		return nil, fmt.Errorf("teepsrv: store session: %w", err)
	}
	s.cfg.Observer.SessionOpened()
	s.sweep(ctx, now)
	s.resettle(ctx)
	return msg, nil
}

// waiting is the session of token if it waits, now, for a message of
// device in state from: a QueryResponse from any registered device (the
// QueryRequest went to whoever asked), Success or Error only from the
// device the Update went to.
func (s *Server) waiting(ctx context.Context, token []byte, from store.SessionState, device string, now time.Time) (store.Session, error) {
	if token == nil {
		return store.Session{}, fmt.Errorf("%w: no token", ErrToken)
	}
	sess, err := s.cfg.Store.Session(ctx, token)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, fmt.Errorf("%w: never issued or forgotten", ErrToken)
	case err != nil:
		return store.Session{}, fmt.Errorf("teepsrv: session: %w", err)
	case sess.State != from:
		return store.Session{}, fmt.Errorf("%w: the session is in state %s, not %s", ErrToken, sess.State, from)
	case !now.Before(sess.Expires):
		return store.Session{}, fmt.Errorf("%w: the session expired at %s", ErrToken, sess.Expires.UTC().Format(time.RFC3339))
	case from != store.QuerySent && sess.Device != device:
		return store.Session{}, fmt.Errorf("%w: the session is another device's", ErrToken)
	}
	return sess, nil
}

// queryResponse appraises the device's evidence, records what it
// reported, and answers the Update it needs, if it is trustworthy and
// needs one.
func (s *Server) queryResponse(ctx context.Context, dev store.Device, m *teep.QueryResponse) ([]byte, error) {
	now := s.cfg.Now()
	epoch := s.notices.current()
	sess, err := s.waiting(ctx, m.Token, store.QuerySent, dev.ID, now)
	if err != nil {
		return s.refuse(m.Token, s.cfg.Numbering, teep.ErrPermanentError, err)
	}
	n := teep.Numbering(sess.Numbering)
	tcs, err := installedTCs(m.TCList)
	if err != nil {
		return s.refuse(m.Token, n, teep.ErrPermanentError, err)
	}
	att, appraisal, err := s.appraise(ctx, dev, sess, m)
	if err != nil {
		return nil, err
	}
	s.cfg.Observer.Appraised(att.Status)
	next := sess
	next.Device, next.State, next.Expires = dev.ID, store.Done, now.Add(s.cfg.SessionLifetime)
	var (
		answer     []byte
		lastError  *string
		heldReason string
	)
	trusted := appraisal != nil && appraisal.Trustworthy()
	if trusted {
		latest, err := s.cfg.Store.LatestFor(ctx, dev.ID)
		if err != nil {
			return nil, fmt.Errorf("teepsrv: envelopes for %s: %w", dev.ID, err)
		}
		recent, err := s.cfg.Store.Reports(ctx, dev.ID, maxReportsConsidered)
		if err != nil {
			return nil, fmt.Errorf("teepsrv: reports of %s: %w", dev.ID, err)
		}
		ws, err := s.cfg.Store.ListWithdrawals(ctx)
		if err != nil {
			return nil, fmt.Errorf("teepsrv: withdrawals: %w", err)
		}
		withdrawn := withdrawalsFor(ws, tcs, recent)
		have := installed(tcs, appraisal.Claims)
		offer, err := s.offer(ctx, dev, m.Token, att.Status, have)
		if err != nil {
			return nil, err
		}
		// What fits in one message is decided before the rollouts claim
		// it, so that nothing is claimed that the Update does not carry.
		decided, held := decide(withdrawn.deliverable(candidates(latest, offer)), have, historyOf(recent))
		allHeld := append(append([]heldBack(nil), withdrawn.held...), held...)
		lastError = s.heldError(dev, allHeld)
		if len(allHeld) > 0 {
			heldReason = allHeld[0].reason
		}
		send, err := s.fit(m.Token, n, decided)
		if err != nil {
			return nil, err
		}
		if send, err = s.claim(ctx, offer, m.Token, send); err != nil {
			return nil, err
		}
		if answer, send, err = s.update(m.Token, n, withdrawn.unlink, send); err != nil {
			return nil, err
		}
		if len(send) > 0 || len(withdrawn.unlink) > 0 {
			next.State = store.UpdateSent
			for _, e := range send {
				next.Envelopes = append(next.Envelopes, e.Digest)
			}
		}
	}
	// The session is spent here, once, with what the device reported, in
	// one transaction: a replay of this QueryResponse (or a race of two)
	// finds it in another state and changes nothing, and a TAM stopped
	// here leaves it waiting for the device's retry.
	err = s.cfg.Store.RecordAnswer(ctx, store.Answer{Session: next, From: store.QuerySent, Now: now,
		RecordTCs: true, TCs: tcs, Attestation: &att, LastError: lastError, End: queryEnd(next, trusted, att, heldReason)})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.refuse(m.Token, n, teep.ErrPermanentError, fmt.Errorf("%w: %w", ErrToken, err))
		}
		return nil, fmt.Errorf("teepsrv: record the query response of %s: %w", dev.ID, err)
	}
	s.notices.mark(dev.ID, epoch)
	s.log.Info("teep query response", "device", dev.ID, "attestation", att.Status,
		"update", next.State == store.UpdateSent, "envelopes", len(next.Envelopes))
	return answer, nil
}

// queryEnd is how a QueryResponse recorded as next ends its session: not
// at all when an Update went out; refused when the evidence was not
// trustworthy (nothing was offered); up to date otherwise, with why
// something was held back when it was.
func queryEnd(next store.Session, trusted bool, att store.Attestation, held string) *store.SessionEnd {
	switch {
	case next.State != store.Done:
		return nil
	case !trusted:
		detail := att.Status
		if att.Reason != "" {
			detail += ": " + att.Reason
		}
		return &store.SessionEnd{Outcome: store.OutcomeRefused, Detail: clip(detail)}
	}
	return &store.SessionEnd{Outcome: store.OutcomeUpToDate, Detail: clip(held)}
}

// fit is the head of send that fits in one Update (its encoding, plus
// what the COSE_Sign1 around it adds, within teep.MaxMessageSize).
func (s *Server) fit(token []byte, n teep.Numbering, send []store.Envelope) ([]store.Envelope, error) {
	if len(send) > 0 {
		first := send[0]
		defer func() {
			if len(send) == 0 {
				// Never deliverable by TEEP: the catalog should not
				// have taken it. Said, not sent, every session.
				s.log.Warn("envelope too large for a TEEP message", "digest", fmt.Sprintf("%x", first.Digest), "bytes", len(first.Raw))
			}
		}()
	}
	for len(send) > 0 {
		b, err := teep.Encode(s.updateOf(token, nil, send), n)
		switch {
		case err == nil && len(b)+signOverhead <= teep.MaxMessageSize:
			return send, nil
		case err != nil && !errors.Is(err, teep.ErrLimit):
			return nil, fmt.Errorf("teepsrv: encode Update: %w", err)
		}
		send = send[:len(send)-1]
	}
	return nil, nil
}

// updateOf is the Update that unlinks the TAs unlink and carries send.
func (s *Server) updateOf(token []byte, unlink []teep.ComponentID, send []store.Envelope) *teep.Update {
	u := &teep.Update{Token: token, UnneededManifests: unlink, Manifests: make([]teep.Manifest, len(send))}
	for i, e := range send {
		u.Manifests[i] = teep.Manifest{Envelope: untagged(e.Raw), Tagged: s.cfg.TaggedEnvelopes}
	}
	return u
}

// update signs the Update that unlinks the TAs unlink and carries send,
// as many of them as fit in one message (the rest go in the next
// session), and returns it with what it carries; nil when both are empty.
// The unlinks are the device's own tc-list entries, which fit in its own
// message.
func (s *Server) update(token []byte, n teep.Numbering, unlink []teep.ComponentID, send []store.Envelope) ([]byte, []store.Envelope, error) {
	for len(send) > 0 || len(unlink) > 0 {
		msg, err := teep.Sign(s.updateOf(token, unlink, send), n, s.sign)
		switch {
		case err == nil:
			return msg, send, nil
		case errors.Is(err, teep.ErrLimit) && len(send) > 1:
			send = send[:len(send)-1]
		default:
			return nil, nil, fmt.Errorf("teepsrv: sign Update: %w", err)
		}
	}
	return nil, nil, nil
}

// suitEnvelopeTag is CBOR tag 107 (SUIT_Envelope_Tagged).
var suitEnvelopeTag = []byte{0xd8, 0x6b}

// untagged is a stored envelope without tag 107: the Update adds it back
// when the TAM is set to send envelopes tagged.
func untagged(env []byte) []byte { return bytes.TrimPrefix(env, suitEnvelopeTag) }

// outcome ends the session of token with the device's Success or Error:
// the report is stored, an Error is the device's last error, a Success
// clears it. An Error that names no session (the Agent could not read
// the message) is recorded as the device's last error alone.
func (s *Server) outcome(ctx context.Context, dev store.Device, token []byte, r *store.Report) ([]byte, error) {
	now := s.cfg.Now()
	r.Device, r.Time = dev.ID, now
	lastError := ""
	if !r.Success {
		lastError = fmt.Sprintf("%s: %s", teep.ErrCode(r.ErrCode), r.ErrMsg)
	}
	if !r.Success && token == nil {
		if err := s.cfg.Store.RecordError(ctx, dev.ID, lastError); err != nil {
			return nil, fmt.Errorf("teepsrv: record error of %s: %w", dev.ID, err)
		}
		return nil, nil
	}
	// Success answers an Update; an Error may also answer a QueryRequest.
	from := store.UpdateSent
	if !r.Success {
		if sess, err := s.cfg.Store.Session(ctx, token); err == nil && sess.State == store.QuerySent {
			from = store.QuerySent
		}
	}
	sess, err := s.waiting(ctx, token, from, dev.ID, now)
	if err != nil {
		return s.refuse(token, s.cfg.Numbering, teep.ErrPermanentError, err)
	}
	r.Envelopes = sess.Envelopes
	// What the store would refuse to record is refused here, before the
	// session is spent.
	if err := r.Validate(); err != nil {
		return s.refuse(token, teep.Numbering(sess.Numbering), teep.ErrPermanentError, fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	next := sess
	next.Device, next.State = dev.ID, store.Done
	moves, err := s.answered(ctx, dev.ID, sess, r.Success, lastError)
	if err != nil {
		return nil, err
	}
	// The session is spent with everything the answer tells, in one
	// transaction: a TAM stopped here leaves the session waiting for the
	// device's retry, never spent without its report.
	end := &store.SessionEnd{Outcome: store.OutcomeSuccess}
	if !r.Success {
		end = &store.SessionEnd{Outcome: store.OutcomeError, Detail: lastError}
	}
	err = s.cfg.Store.RecordAnswer(ctx, store.Answer{Session: next, From: from, Now: now,
		LastError: &lastError, Report: r, Deliveries: moves, End: end})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.refuse(token, teep.Numbering(sess.Numbering), teep.ErrPermanentError, fmt.Errorf("%w: %w", ErrToken, err))
		}
		return nil, fmt.Errorf("teepsrv: record the answer of %s: %w", dev.ID, err)
	}
	s.settle(ctx, moves)
	s.cfg.Observer.Answered(r.Success)
	if r.Success {
		// What was left out of this Update (a firmware pair after TAs,
		// what did not fit) goes in the next session: wake the device's
		// long poll for it. A session with nothing left ends with 204.
		s.notices.notify(dev.ID)
	}
	s.log.Info("teep outcome", "device", dev.ID, "success", r.Success, "err", lastError, "envelopes", len(r.Envelopes))
	return nil, nil
}

// refuse is the signed TEEP Error that answers a refused message of a
// registered device, with the refusal.
func (s *Server) refuse(token []byte, n teep.Numbering, code teep.ErrCode, why error) ([]byte, error) {
	if len(token) < teep.MinTokenSize || len(token) > teep.MaxTokenSize {
		token = nil
	}
	msg, err := teep.Sign(&teep.Error{Token: token, Code: code, ErrMsg: clip(why.Error())}, n, s.sign)
	if err != nil {
		return nil, fmt.Errorf("teepsrv: sign Error: %w (refusing: %w)", err, why)
	}
	s.log.Info("teep refused", "why", why)
	return msg, why
}

// clip fits a refusal's text into err-msg (at most teep.MaxMsgSize bytes,
// whole runes).
func clip(msg string) string {
	if len(msg) <= teep.MaxMsgSize {
		return msg
	}
	return strings.ToValidUTF8(msg[:teep.MaxMsgSize], "")
}

// tokenOf is the token of a message, nil when it has none.
func tokenOf(m teep.Message) []byte {
	switch m := m.(type) {
	case *teep.QueryRequest:
		return m.Token
	case *teep.Update:
		return m.Token
	}
	return nil
}

// heldError is the device's new last error when envelopes are held
// back: the first one's reason, so that the operator sees why the device
// is not brought up to date; nil to leave the last error as it is.
func (s *Server) heldError(dev store.Device, held []heldBack) *string {
	if len(held) == 0 {
		return nil
	}
	for _, h := range held {
		s.log.Warn("envelope held back", "device", dev.ID, "reason", h.reason)
	}
	if dev.LastError == held[0].reason {
		return nil
	}
	return &held[0].reason
}
