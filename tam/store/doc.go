// Package store is the TAM's persistent state behind one interface: the
// authors and the envelopes they publish, the payloads served by digest,
// the devices and what they last reported, the TEEP sessions in flight
// and each device's log of its last sessions, the rollouts, and the operator side (principals, API tokens, login sessions and the
// append-only audit trail).
//
// Backends (tam/store/sqlite, embedded, the default) implement Store and
// pass the one conformance suite in tam/store/storetest. Every method is
// safe for concurrent use and atomic: a call that returns an error changed
// nothing. Time comes from the caller (the TAM's clock), never from the
// backend, so that tests are deterministic.
//
// What is stored comes back as it went in: every field, nil and empty
// byte slices and lists kept apart, times as the same instant (in UTC, to
// the nanosecond). Records are checked by their Validate methods before
// they are written (limits.go); a refused record is ErrInvalid.
//
// Trust: a store trusts its callers (the TAM's handlers check
// authorization and verify envelopes before they store anything) and
// checks only its own invariants (uniqueness, single-use sessions,
// append-only audit).
package store
