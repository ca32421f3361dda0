package teep

import (
	"context"
	"errors"
	"time"
)

// The errors of an Update's install set.
var (
	// ErrBusy: TrustedComponents.Start found another install set in
	// progress; the TAM may try again later (ERR_TEMPORARY_ERROR).
	ErrBusy = errors.New("teep: another install set is in progress")
	// ErrNotReady: TrustedComponents.Commit found payloads of the set not
	// yet written; the set waits on.
	ErrNotReady = errors.New("teep: the install set's payloads are not all written")
	// ErrNothingPending: Continue with no install set waiting for it.
	ErrNothingPending = errors.New("teep: no install set waits to be continued")
)

// pending is an Update whose install set waits for its payloads: what
// the answer to it needs once Continue commits the set.
type pending struct {
	token     []byte
	numbering Numbering
	set       uint64
	payloads  []Payload
	reports   [][]byte // of the unlinks that came first
	expires   time.Time
}

// update answers an Update: its token must be one this Agent issued with
// a QueryRequest and not yet used. The TCs it names unneeded are unlinked
// first; then its manifests start as one install set. When the set waits
// for payloads the answer is those payloads, and Continue answers the
// Update once they are written; else the set is committed at once.
func (a *Agent) update(ctx context.Context, m *Update, n Numbering) (Answer, error) {
	fail := func(code ErrCode, msg string, reports [][]byte) (Answer, error) {
		return a.sign(&Error{Token: m.Token, Code: code, ErrMsg: clip(msg), SUITReports: nonEmpty(reports)}, n)
	}
	if m.Token == nil {
		return fail(ErrPermanentError, "Update without a token", nil)
	}
	s, ok := a.sessions[string(m.Token)]
	switch {
	case !ok:
		// Never issued here, or expired and forgotten: either way the TAM
		// must start over.
		return fail(ErrPermanentError, "unknown or expired token", nil)
	case s.used:
		return fail(ErrPermanentError, "token already used", nil)
	}
	s.used = true // single use, whatever comes of it
	if a.pending != nil {
		// A newer Update of a trusted TAM supersedes the one whose
		// payloads never came: its session was given up.
		a.cancelPending(ctx)
	}
	var reports [][]byte
	if len(m.UnneededManifests) > 0 {
		r, err := a.cfg.TCs.Unlink(ctx, m.UnneededManifests)
		reports = append(reports, r...)
		if err != nil {
			return fail(ErrManifestProcessingFailed, "unlink: "+err.Error(), reports)
		}
	}
	if len(m.Manifests) == 0 {
		return a.sign(&Success{Token: m.Token, SUITReports: nonEmpty(reports)}, n)
	}
	envelopes := make([][]byte, len(m.Manifests))
	for i, mf := range m.Manifests {
		envelopes[i] = mf.Envelope
	}
	set, r, err := a.cfg.TCs.Start(ctx, envelopes)
	if err != nil {
		code := ErrManifestProcessingFailed
		if errors.Is(err, ErrBusy) {
			code = ErrTemporaryError
		}
		return fail(code, "install: "+err.Error(), append(reports, r...))
	}
	p := &pending{token: m.Token, numbering: n, set: set.Set, payloads: set.Payloads, reports: reports,
		expires: a.cfg.Now().Add(a.cfg.Lifetime)}
	if len(set.Payloads) == 0 {
		return a.commit(ctx, p)
	}
	a.pending = p
	return Answer{Set: set.Set, Payloads: set.Payloads}, nil
}

// Continue commits the install set that waits for its payloads, once the
// normal world has written them, and returns the signed answer to its
// Update: Success with the SUIT reports of the manifests processed, or
// Error with them. With no set waiting it is ErrNothingPending; when the
// set's payloads are not all written, an error wrapping ErrNotReady and
// the set waits on.
func (a *Agent) Continue(ctx context.Context) (Answer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(ctx)
	p := a.pending
	if p == nil {
		return Answer{}, ErrNothingPending
	}
	ans, err := a.commit(ctx, p)
	if errors.Is(err, ErrNotReady) {
		return Answer{}, err
	}
	a.pending = nil
	return ans, err
}

// commit commits p's install set and answers its Update.
func (a *Agent) commit(ctx context.Context, p *pending) (Answer, error) {
	reboot, r, err := a.cfg.TCs.Commit(ctx, p.set)
	if errors.Is(err, ErrNotReady) && len(p.payloads) > 0 {
		return Answer{}, err
	}
	reports := append(p.reports, r...)
	if err != nil {
		// A set that failed stays in the update service until the next
		// one; abandon it now, so that the next finds it idle.
		_ = a.cfg.TCs.Cancel(ctx, p.set)
		return a.sign(&Error{Token: p.token, Code: ErrManifestProcessingFailed, ErrMsg: clip("install: " + err.Error()),
			SUITReports: nonEmpty(reports)}, p.numbering)
	}
	ans, err := a.sign(&Success{Token: p.token, SUITReports: nonEmpty(reports)}, p.numbering)
	ans.Reboot = reboot && err == nil
	return ans, err
}

// cancelPending abandons the install set that waits for its payloads. The
// set is gone from the Agent whatever Cancel says: were it left in the
// update service, the service's own stall bound abandons it.
func (a *Agent) cancelPending(ctx context.Context) {
	_ = a.cfg.TCs.Cancel(ctx, a.pending.set)
	a.pending = nil
}
