// Package apijson is the JSON plumbing of the TAM's operator API, shared by
// the handlers of tam/catalog, tam/rollout and tam/auth: the error answer
// ({"error": "...", "code": "..."}), writing an answer, answering an error
// with the status its package's table maps it to (an internal fault masked
// and logged), and reading a request body strictly: one JSON value, no
// unknown fields, at most the caller's bound, every refusal typed
// (ErrMalformed, ErrTooLarge).
//
// Each package keeps its own sentinel errors and their rows of a Statuses
// table; this package knows no sentinel but its own two.
//
// Trust: it trusts its callers' tables and the values they answer; it
// trusts nothing of a request body: every read is bounded by the caller's
// limit and anything but exactly one JSON value of the expected fields is
// refused. The text of an error no row maps (a store or I/O fault) never
// reaches the client.
package apijson
