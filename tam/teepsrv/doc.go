// Package teepsrv is the TAM's side of TEEP over HTTP
// (draft-ietf-teep-otrp-over-http, draft-ietf-teep-protocol-26): the
// endpoint a device's broker posts to, the sessions it keeps in the store,
// the appraisal of the device's evidence and the decision of what the
// device must install; and the long poll that tells a broker when the TAM
// has something new for it.
//
// A session: an empty POST gets a signed QueryRequest with a fresh token
// and challenge (the session is stored, state QuerySent); the device's
// QueryResponse is verified with its registered Agent key (found by the
// COSE kid, the RFC 9679 thumbprint that is also its device ID), its
// evidence appraised by attest in the background-check model against the
// device's endorsement and the reference values of its factory images and
// of every published envelope; a trustworthy device gets an Update with
// the envelopes it lacks or has at a lower sequence number (TAs and
// personalization first, a firmware pair in an Update of its own), an
// untrustworthy one 204 with its appraisal recorded; Success or Error
// ends the session with a report.
//
// Each answer is recorded in one store transaction (store.RecordAnswer):
// the session's compare-and-set with everything the answer tells (tc-list,
// appraisal, report, last error, rollout deliveries, and the entry of the
// device's session log when the session ends), so that a TAM stopped at
// any point leaves the session waiting for the device's retry or the
// answer recorded whole. Opening a session drops, once a session
// lifetime, the expired ones (sweep.go), logging each Update that got no
// answer as expired.
//
// Trust: nothing in a request. Every message but the empty POST must
// verify with the Agent key of a registered device; a token is good for
// one answer of one device, in the state the store says, before it
// expires: the store's compare-and-set (RecordAnswer) is what refuses a
// replay, also across a restart. The evidence proves what the device runs
// only after attest verified it against the endorsement registered for
// that device, bound to that session's challenge. The store and the
// clock are trusted.
package teepsrv
