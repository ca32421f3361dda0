// Package dashboard is the TAM's web page (issue 15): the fleet at a
// glance, each rollout's waves, a device's history, and the operator's
// pause, resume and cancel as POST forms carrying the login session's
// CSRF token. It runs behind the gate (tam/auth): its routes and roles are
// in auth.Routes (viewers see, operators act), and the gate checks the
// session, the CSRF token and writes the audit rows. Pages are
// html/template (everything escaped) from embedded files, with no
// JavaScript at all: a running rollout's page refreshes itself with a
// meta refresh.
//
// Trust: it trusts the gate in front of it for who the principal is and
// for the CSRF check of its forms, and nothing a device or an author
// stored (names, errors, report texts are shown escaped, never as
// markup); its Content-Security-Policy allows no script and no framing,
// so that an escaping slip still runs nothing.
package dashboard
