package dashboard

import "net/http"

// contentSecurityPolicy allows the page nothing but its own stylesheet
// and forms posted to itself: no script, no frame, no other origin.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every dashboard answer carries: never cached
// (the pages hold the CSRF token and the fleet's state), never framed
// (clickjacking of the operator's buttons), never sniffed. The referrer
// stays home (same-origin), not no-referrer: under no-referrer a browser
// sends "Origin: null" with the forms' POSTs, which the gate's CSRF check
// rightly refuses as another origin (TestDashboardInChromium found it).
func secure(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}
