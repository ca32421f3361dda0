package dashboard

import (
	"net/http"
	"net/url"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// The operator's buttons: POST forms the gate has authenticated,
// authorized (operator) and checked the CSRF token of before they get
// here, and whose audit row it writes. Each answers 303 back to the
// rollout's page (post/redirect/get: a reload does not post again).

// HandlePause is POST /dashboard/rollouts/{rollout}/pause.
func (d *Dashboard) HandlePause(w http.ResponseWriter, r *http.Request) {
	d.act(w, r, func(id, reason string) (store.Rollout, error) { return d.ro.Pause(r.Context(), id, reason) })
}

// HandleResume is POST /dashboard/rollouts/{rollout}/resume.
func (d *Dashboard) HandleResume(w http.ResponseWriter, r *http.Request) {
	d.act(w, r, func(id, _ string) (store.Rollout, error) { return d.ro.Resume(r.Context(), id) })
}

// HandleCancel is POST /dashboard/rollouts/{rollout}/cancel.
func (d *Dashboard) HandleCancel(w http.ResponseWriter, r *http.Request) {
	d.act(w, r, func(id, reason string) (store.Rollout, error) { return d.ro.Cancel(r.Context(), id, reason) })
}

func (d *Dashboard) act(w http.ResponseWriter, r *http.Request, move func(id, reason string) (store.Rollout, error)) {
	id := r.PathValue("rollout")
	auth.SetAuditTarget(r.Context(), id)
	reason := r.PostFormValue("reason")
	if len(reason) > MaxReasonLen {
		d.fail(w, http.StatusBadRequest, "a reason has at most 200 bytes")
		return
	}
	if reason == "" {
		if who, ok := auth.PrincipalFrom(r.Context()); ok {
			reason = "by " + who.Name + " on the dashboard"
		}
	}
	if _, err := move(id, reason); err != nil {
		d.storeError(w, err)
		return
	}
	secure(w.Header())
	http.Redirect(w, r, "/dashboard/rollouts/"+url.PathEscape(id), http.StatusSeeOther)
}
