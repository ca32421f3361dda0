// Package auth is the gate of the TAM's operator side (issue 17): who is
// calling (an API token, or a dashboard login with its CSRF token), what
// their roles let them do, and the audit trail of what they did. The TEEP
// endpoint is not behind it: TEEP messages authenticate by their
// signatures.
//
// Trust: it trusts the store and the clock it is given, and nothing that
// arrives in a request: tokens and cookies are compared by their hashes in
// constant time, and a request it refuses changes nothing but the audit
// trail.
package auth
